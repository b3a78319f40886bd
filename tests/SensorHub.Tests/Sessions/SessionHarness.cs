using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using SensorHub.Server.Sessions.Internal;
using SensorHub.Server.Shutdown;

namespace SensorHub.Tests.Sessions;

/// <summary>The session service on the in-memory store, without a host, on a clock the test moves.</summary>
internal sealed class SessionHarness : IDisposable
{
    private readonly ShutdownSignal _shutdown = new();

    public SessionHarness(LiveSessionOptions? options = null)
    {
        Options = options ?? new LiveSessionOptions();
        var wrapped = Microsoft.Extensions.Options.Options.Create(Options);
        Store = new InMemorySessionStore(wrapped, Time, _shutdown, NullLogger<InMemorySessionStore>.Instance);
        Service = new SessionService(Store, wrapped, Time, NullLogger<SessionService>.Instance);
    }

    public static SensorHubUser Alice { get; } = new("alice", "alice", [Roles.Operator], null);

    public static SensorHubUser Bob { get; } = new("bob", "bob", [Roles.Operator], null);

    public static SensorHubUser Vera { get; } = new("vera", "vera", [Roles.Viewer], null);

    public static SensorHubUser Root { get; } = new("root", "root", [Roles.Admin], null);

    public static SensorHubUser Device { get; } = new("dev-1", "dev-1", [Roles.Device], null);

    /// <summary>An operator who may read only the sensors under <c>plant-1/</c>.</summary>
    public static SensorHubUser Plant1Operator { get; } = new("pat", "pat", [Roles.Operator], ["plant-1/"]);

    /// <summary>Another operator called "alice", with a subject of her own.</summary>
    public static SensorHubUser AliceTwin { get; } = new("alice-2", "alice", [Roles.Operator], null);

    /// <summary>An operator whose token carries no subject.</summary>
    public static SensorHubUser Nameless { get; } = new(null, "nameless", [Roles.Operator], null);

    public LiveSessionOptions Options { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero));

    public InMemorySessionStore Store { get; }

    public SessionService Service { get; }

    public Task<SessionInfo> CreateAsync(
        SensorHubUser owner, string[]? sensorIds = null, bool isPrivate = false, string[]? invited = null, string title = "Line 1 check") =>
        Service.CreateAsync(
            owner,
            new CreateSessionRequest { Title = title, SensorIds = sensorIds ?? ["plant-1/line-1/temperature"], Private = isPrivate, Invited = invited },
            CancellationToken.None).WaitAsync(Infrastructure.Timeouts.Default);

    public Task<Annotation> AnnotateAsync(SensorHubUser user, string sessionId, string text, string? sensorId = null, long? sequence = null) =>
        Service.AnnotateAsync(user, sessionId, new AnnotationInput { Text = text, SensorId = sensorId, Sequence = sequence }, CancellationToken.None)
            .WaitAsync(Infrastructure.Timeouts.Default);

    public SessionStream Join(SensorHubUser user, string? sessionId) => SessionStream.Join(Service, user, sessionId);

    /// <summary>The idle-session sweeper on this harness's store and clock; the caller starts and disposes it.</summary>
    public IdleSessionSweeper Sweeper(ISessionStore? store = null) =>
        new(store ?? Store, Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<IdleSessionSweeper>.Instance);

    public SessionState State(string sessionId) => Store.Find(sessionId) ?? throw new InvalidOperationException($"No session {sessionId}.");

    /// <summary>Simulates the server's stop, as the hub's drain signals it.</summary>
    public void Stop() => _shutdown.Raise();

    public void Dispose()
    {
        Store.Dispose();
        _shutdown.Dispose();
    }
}
