using SensorHub.Server.Identity;

namespace SensorHub.Tests.Infrastructure;

/// <summary>Who a test connects as: a dev token with these claims, or no token at all (<see cref="Anonymous"/>).</summary>
public sealed record TestUser(string Name, string[] Roles, string[]? Sensors = null)
{
    public TestUser(string name, params string[] roles)
        : this(name, roles, null)
    {
    }

    /// <summary>The default: an admin, who may do everything.</summary>
    public static TestUser Admin { get; } = new("test-admin", SensorHub.Server.Identity.Roles.Admin);

    /// <summary>No token: a guest viewer where anonymous access is on, refused where it is off.</summary>
    public static TestUser Anonymous { get; } = new("", []);

    public bool IsAnonymous => Roles.Length == 0;

    public static TestUser Viewer(string name = "vera") => new(name, SensorHub.Server.Identity.Roles.Viewer);

    public static TestUser Operator(string name = "olga") => new(name, SensorHub.Server.Identity.Roles.Operator);

    public static TestUser Device(string name = "dev-1", params string[] sensors) =>
        new(name, [SensorHub.Server.Identity.Roles.Device], sensors.Length == 0 ? null : sensors);
}
