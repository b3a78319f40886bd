using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionHarness;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// A session with no participant for <see cref="LiveSessionOptions.IdleTimeout"/> ends, as <c>EndSession</c> ends it,
/// on the sweeper's timer. Idle counts from the creation, and again from the last participant's departure.
/// </summary>
public sealed class SessionIdleTests
{
    private static readonly TimeSpan s_second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ASessionNobodyJoinsEndsOnceIdleForTheTimeoutFromItsCreationAndItsOwnerMayOpenAnother()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { IdleTimeout = TimeSpan.FromHours(1), MaxOpenSessionsPerUser = 1 });
        var session = await harness.CreateAsync(Alice);
        await Assert.ThrowsAsync<SessionException>(() => harness.CreateAsync(Alice));

        harness.Time.Advance(TimeSpan.FromHours(1) - s_second);
        var early = await harness.Store.EndIdleAsync(harness.Options.IdleTimeout, CancellationToken.None);
        harness.Time.Advance(s_second);
        var due = await harness.Store.EndIdleAsync(harness.Options.IdleTimeout, CancellationToken.None);

        Assert.Empty(early);
        Assert.Equal(session, Assert.Single(due).Info);
        Assert.Equal(0, harness.Store.Count);
        await using var late = harness.Join(Alice, session.Id);
        Assert.Equal(SensorHubErrors.UnknownSession, (await Assert.ThrowsAsync<SessionException>(() => late.Completion)).Code);
        // Its owner's count of open sessions dropped with it.
        await harness.CreateAsync(Alice);
    }

    [Fact]
    public async Task PresenceKeepsASessionOpenAndTheLastDepartureStartsTheClockAgain()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { IdleTimeout = TimeSpan.FromHours(1) });
        var session = await harness.CreateAsync(Alice);
        harness.Time.Advance(TimeSpan.FromMinutes(30));
        var bob = harness.Join(Bob, session.Id);
        await bob.SnapshotAsync();

        harness.Time.Advance(TimeSpan.FromHours(5));
        var whilePresent = await harness.Store.EndIdleAsync(harness.Options.IdleTimeout, CancellationToken.None);
        await bob.DisposeAsync();
        await Timeouts.WaitUntilAsync(() => harness.State(session.Id).Participants.Length == 0, Timeouts.Default, "bob left");
        harness.Time.Advance(TimeSpan.FromHours(1) - s_second);
        var soonAfter = await harness.Store.EndIdleAsync(harness.Options.IdleTimeout, CancellationToken.None);
        harness.Time.Advance(s_second);
        var due = await harness.Store.EndIdleAsync(harness.Options.IdleTimeout, CancellationToken.None);

        Assert.Empty(whilePresent);
        Assert.Empty(soonAfter);
        Assert.Equal(session.Id, Assert.Single(due).Info.Id);
        Assert.Null(harness.Store.Find(session.Id));
    }

    [Fact]
    public async Task TheSweeperEndsIdleSessionsOnItsTimer()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { IdleTimeout = TimeSpan.FromHours(1) });
        var session = await harness.CreateAsync(Alice);
        using var sweeper = harness.Sweeper();
        await sweeper.StartAsync(CancellationToken.None);
        try
        {
            harness.Time.Advance(TimeSpan.FromMinutes(59));
            await Timeouts.WaitUntilAsync(() => sweeper.Sweeps >= 1, Timeouts.Default, "a sweep before the timeout");
            Assert.NotNull(harness.Store.Find(session.Id));

            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await Timeouts.WaitUntilAsync(() => harness.Store.Count == 0, Timeouts.Default, "the idle session ended");
        }
        finally
        {
            await sweeper.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ASweepThatFailsIsLoggedAndTheNextOneGoesOn()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { IdleTimeout = TimeSpan.FromMinutes(4) });
        var store = new FailingOnceStore(harness.Store);
        var session = await harness.CreateAsync(Alice);
        using var sweeper = harness.Sweeper(store);
        await sweeper.StartAsync(CancellationToken.None);
        try
        {
            // A sweep each minute, one minute at a time so that each tick is a sweep of its own: the first one fails.
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await Timeouts.WaitUntilAsync(() => sweeper.Sweeps == 1, Timeouts.Default, "the failing sweep");
            Assert.Equal(1, store.Looks);
            for (var minute = 2; minute <= 3; minute++)
            {
                harness.Time.Advance(TimeSpan.FromMinutes(1));
                await Timeouts.WaitUntilAsync(() => sweeper.Sweeps == minute, Timeouts.Default, $"the sweep at minute {minute}");
            }
            Assert.NotNull(harness.Store.Find(session.Id));

            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await Timeouts.WaitUntilAsync(() => harness.Store.Count == 0, Timeouts.Default, "the sweep at the timeout ended the session");
            Assert.False(sweeper.ExecuteTask!.IsCompleted);
        }
        finally
        {
            await sweeper.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AnIdleTimeoutOfZeroKeepsIdleSessionsOpen()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { IdleTimeout = TimeSpan.Zero });
        var session = await harness.CreateAsync(Alice);
        using var sweeper = harness.Sweeper();

        await sweeper.StartAsync(CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromDays(400));

        // Without a timer the sweeper has nothing to do: it is done at once, having swept nothing.
        await sweeper.ExecuteTask!.WaitAsync(Timeouts.Default);
        Assert.Equal(0, sweeper.Sweeps);
        Assert.NotNull(harness.Store.Find(session.Id));
        await sweeper.StopAsync(CancellationToken.None);
    }

    /// <summary>The real store, except that its first look for idle sessions fails.</summary>
    private sealed class FailingOnceStore(ISessionStore inner) : ISessionStore
    {
        private int _looks;

        /// <summary>Looks for idle sessions so far, the failed one included.</summary>
        public int Looks => Volatile.Read(ref _looks);

        public Task<IReadOnlyList<StoredSession>> EndIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _looks) == 1
                ? throw new IOException("The store is out of reach (a test's fault).")
                : inner.EndIdleAsync(idleFor, cancellationToken);

        public Task AddAsync(StoredSession session, CancellationToken cancellationToken) => inner.AddAsync(session, cancellationToken);

        public Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken) => inner.FindAsync(sessionId, cancellationToken);

        public Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

        public Task<ISessionMembership?> JoinAsync(string sessionId, SessionUser joiner, CancellationToken cancellationToken) =>
            inner.JoinAsync(sessionId, joiner, cancellationToken);

        public Task<bool> AnnotateAsync(string sessionId, SessionUser author, Annotation annotation, CancellationToken cancellationToken) =>
            inner.AnnotateAsync(sessionId, author, annotation, cancellationToken);

        public Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken) =>
            inner.SetSensorsAsync(sessionId, sensorIds, cancellationToken);

        public Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken) => inner.EndAsync(sessionId, cancellationToken);
    }
}
