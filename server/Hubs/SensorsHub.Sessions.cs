using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

internal sealed partial class SensorsHub
{
    /// <summary>Opens a session on a set of sensors, owned by the caller.</summary>
    [Requires(Permission.Collaborate)]
    [Creates]
    public Task<SessionInfo> CreateSession(CreateSessionRequest? request) =>
        sessions.CreateAsync(Caller, request, Context.ConnectionAborted);

    /// <summary>The session's snapshot, then its events; the caller is present until the stream ends.</summary>
    [Requires(Permission.Read)]
    public IAsyncEnumerable<SessionEvent> JoinSession(string? sessionId, CancellationToken cancellationToken) =>
        sessions.JoinAsync(Caller, sessionId, cancellationToken);

    /// <summary>Adds an annotation that everyone in the session sees at once.</summary>
    [Requires(Permission.Collaborate)]
    [Creates]
    public Task Annotate(string? sessionId, AnnotationInput? input) =>
        sessions.AnnotateAsync(Caller, sessionId, input, Context.ConnectionAborted);

    /// <summary>Replaces the session's sensors (its owner or an admin).</summary>
    [Requires(Permission.Collaborate)]
    public Task SetSessionSensors(string? sessionId, string[]? sensorIds) =>
        sessions.SetSensorsAsync(Caller, sessionId, sensorIds, Context.ConnectionAborted);

    /// <summary>Ends the session (its owner or an admin): every stream on it gets <c>ended</c> and completes.</summary>
    [Requires(Permission.Read)]
    public Task EndSession(string? sessionId) =>
        sessions.EndAsync(Caller, sessionId, Context.ConnectionAborted);

    /// <summary>The open sessions the caller may see.</summary>
    [Requires(Permission.Read)]
    public Task<IReadOnlyList<SessionInfo>> ListSessions() =>
        sessions.ListAsync(Caller, Context.ConnectionAborted);
}
