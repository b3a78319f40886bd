namespace SensorHub.Server.Hubs;

/// <summary>
/// The method creates something a client could otherwise create without end (an upload, a session, an annotation):
/// each call takes a permit from its connection's creation budget (<see cref="HubLimitsOptions.CreationRateLimit"/>),
/// or is refused with <c>rate_limited</c> and the time to wait.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class CreatesAttribute : Attribute;

/// <summary>The method is an <c>Upload</c> stream: it holds one of its connection's <c>MaxUploadsPerConnection</c> upload slots while it runs.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class UploadSlotAttribute : Attribute;
