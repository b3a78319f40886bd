namespace SensorHub.Server.Identity;

/// <summary>
/// The permission a hub method needs. The hub filter checks it before the method runs and refuses the call with a
/// <c>HubException</c> that says what is missing; finer checks (a sensor's prefix, a session's owner) stay in the method.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresAttribute(Permission permission) : Attribute
{
    public Permission Permission { get; } = permission;
}
