using System.Security.Claims;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Redis.Sessions;
using SensorHub.Server.Sessions;
using SensorHub.Server.Sessions.Internal;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Sessions;

/// <summary>The session contract's calls over a hub connection, each bounded by a timeout, and names no other test uses.</summary>
internal static class SessionCalls
{
    public const string Temperature = "plant-1/line-1/temperature";
    public const string Humidity = "plant-1/line-1/humidity";

    /// <summary>A user name no other test uses, so that presence and per-user limits are each test's own.</summary>
    public static string UniqueName(string name) => $"{name}-{Guid.NewGuid().ToString("N")[..8]}";

    public static TestUser NewOperator(string name) => TestUser.Operator(UniqueName(name));

    public static TestUser NewViewer(string name) => TestUser.Viewer(UniqueName(name));

    /// <summary>
    /// A hub connection with a token whose subject is <paramref name="subject"/> (<see langword="null"/>: none), apart
    /// from its name; dev tokens always carry their name as their subject.
    /// </summary>
    public static Task<TestConnection> ConnectAsSubjectAsync(this SensorHubApplication app, Protocol protocol, TestUser user, string? subject)
    {
        var claims = SensorHubApplication.ClaimsOf(user, withSubject: false);
        if (subject is not null)
            claims.Add(new Claim(SensorHubUser.SubjectClaim, subject));
        return app.ConnectWithTokenAsync(protocol, app.MintToken(claims, TimeSpan.FromMinutes(10)));
    }

    public static Task<SessionInfo> CreateSessionAsync(
        this HubConnection hub, string[]? sensorIds = null, bool isPrivate = false, string[]? invited = null, string title = "Line 1 check") =>
        hub.CreateSessionAsync(new CreateSessionRequest { Title = title, SensorIds = sensorIds ?? [Temperature], Private = isPrivate, Invited = invited });

    public static Task<SessionInfo> CreateSessionAsync(this HubConnection hub, CreateSessionRequest? request) =>
        hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, request).WaitAsync(Timeouts.Default);

    public static Task AnnotateAsync(this HubConnection hub, string? sessionId, string text, string? sensorId = null, long? sequence = null) =>
        hub.AnnotateAsync(sessionId, new AnnotationInput { Text = text, SensorId = sensorId, Sequence = sequence });

    public static Task AnnotateAsync(this HubConnection hub, string? sessionId, AnnotationInput? input) =>
        hub.InvokeAsync(SensorHubMethods.Annotate, sessionId, input).WaitAsync(Timeouts.Default);

    public static Task SetSessionSensorsAsync(this HubConnection hub, string? sessionId, string[]? sensorIds) =>
        hub.InvokeAsync(SensorHubMethods.SetSessionSensors, sessionId, sensorIds).WaitAsync(Timeouts.Default);

    public static Task EndSessionAsync(this HubConnection hub, string? sessionId) =>
        hub.InvokeAsync(SensorHubMethods.EndSession, sessionId).WaitAsync(Timeouts.Default);

    public static async Task<SessionInfo[]> ListSessionsAsync(this HubConnection hub) =>
        await hub.InvokeAsync<SessionInfo[]>(SensorHubMethods.ListSessions).WaitAsync(Timeouts.Default);

    public static SessionStream JoinSession(this HubConnection hub, string? sessionId) => SessionStream.Join(hub, sessionId!);

    /// <summary>The server's in-memory state of an open session, or null once it is gone.</summary>
    public static SessionState? SessionState(this SensorHubApplication app, string sessionId) =>
        ((InMemorySessionStore)app.Services.GetRequiredService<ISessionStore>()).Find(sessionId);

    /// <summary>Waits until the server counts <paramref name="connections"/> streams of <paramref name="name"/> in the session (0: gone).</summary>
    public static Task WaitForPresenceAsync(this SensorHubApplication app, string sessionId, string name, int connections) =>
        Timeouts.WaitUntilAsync(
            async () => ((await app.ParticipantsAsync(sessionId)).FirstOrDefault(p => p.Name == name)?.Connections ?? 0) == connections,
            Timeouts.Default,
            $"{name} has {connections} streams on session {sessionId}");

    /// <summary>The participants of a session now, on any engine (none once it is gone).</summary>
    public static async Task<Participant[]> ParticipantsAsync(this SensorHubApplication app, string sessionId) =>
        app.Services.GetRequiredService<ISessionStore>() switch
        {
            InMemorySessionStore memory => memory.Find(sessionId)?.Participants ?? [],
            RedisSessionStore redis => await redis.ParticipantsAsync(sessionId).WaitAsync(Timeouts.Default),
            var other => throw new InvalidOperationException($"No participants from a {other.GetType().Name}."),
        };

    /// <summary>An open session as the server's store holds it, on any engine; null once it is gone.</summary>
    public static Task<StoredSession?> FindSessionAsync(this SensorHubApplication app, string sessionId) =>
        app.Services.GetRequiredService<ISessionStore>().FindAsync(sessionId, CancellationToken.None).WaitAsync(Timeouts.Default);

    /// <summary>Compares what travelled with what was sent: records hold arrays, which compare by reference.</summary>
    public static void AssertSame(SessionInfo expected, SessionInfo? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { SensorIds = [] }, actual with { SensorIds = [] });
        Assert.Equal(expected.SensorIds, actual.SensorIds);
    }
}
