using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using SensorHub.Server.Sessions.Internal;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// A server whose session store can make the next join fail after it joined, before the stream's first event. No
/// input does that on purpose through the hub (a cancel that lands just then is a race), so the store is a stand-in
/// around the real one.
/// </summary>
public sealed class SessionFailedStartFixture : IAsyncLifetime
{
    public const int MaxStreams = 2;

    public SessionFailedStartFixture()
    {
        App = new SensorHubApplication(
            settings: new Dictionary<string, string?>
            {
                ["SensorHub:Hub:MaxStreamsPerConnection"] = $"{MaxStreams}",
                ["SensorHub:Sessions:MaxParticipantsPerSession"] = "1",
            })
        {
            TestServices = services =>
            {
                services.AddSingleton<InMemorySessionStore>();
                services.Replace(ServiceDescriptor.Singleton<ISessionStore>(sp => sp.GetRequiredService<FailingJoinStore>()));
                services.AddSingleton(sp => new FailingJoinStore(sp.GetRequiredService<InMemorySessionStore>()));
            },
        };
    }

    public SensorHubApplication App { get; }

    internal FailingJoinStore Store => App.Services.GetRequiredService<FailingJoinStore>();

    internal InMemorySessionStore Inner => App.Services.GetRequiredService<InMemorySessionStore>();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// Issue 11, item 2, for <c>JoinSession</c>: whatever a start acquired (the presence, the member's buffer, the
/// connection's stream slot, the hub's count) is released when anything after the acquisition throws.
/// </summary>
public sealed class SessionFailedStartTests(SessionFailedStartFixture fixture) : IClassFixture<SessionFailedStartFixture>
{
    private SensorHubApplication App => fixture.App;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AJoinThatFailsAfterJoiningLeavesNoPresenceMemberSlotOrCount(Protocol protocol)
    {
        var (owner, vera) = (NewOperator("owner"), NewViewer("vera"));
        await using var ownerConnection = await App.ConnectAsync(protocol, owner);
        await using var veraConnection = await App.ConnectAsync(protocol, vera);
        var session = await ownerConnection.Hub.CreateSessionAsync();
        var state = fixture.Inner.Find(session.Id)!;
        var activeBefore = App.Activity.ActiveStreams;
        var failedBefore = fixture.Store.FailedJoins;

        fixture.Store.FailNextJoin();
        await using (var failing = veraConnection.Hub.JoinSession(session.Id))
        {
            var error = await Assert.ThrowsAsync<HubException>(() => failing.Completion);
            // Not a refusal: the server's own fault carries no code, and no detail.
            Assert.Null(SensorHubErrors.CodeOf(error.Message));
            Assert.Equal(failedBefore + 1, fixture.Store.FailedJoins);
        }

        await Timeouts.WaitUntilAsync(() => App.Activity.ActiveStreams == activeBefore, Timeouts.Default, "the failed stream's count given back");
        Assert.Empty(state.Participants);
        Assert.Equal(0, state.MemberCount);

        // The participant limit is 1: had vera stayed present, the owner would be refused as "session full".
        await using (var ownerStream = ownerConnection.Hub.JoinSession(session.Id))
        {
            var snapshot = await ownerStream.SnapshotAsync();
            Assert.Equal(new[] { owner.Name }, snapshot.Participants!.Select(p => p.Name));
        }
        await Timeouts.WaitUntilAsync(() => state.Participants.Length == 0, Timeouts.Default, "the owner left");

        // Vera's connection holds its full number of streams again, and not one more.
        var streams = new List<SessionStream>();
        try
        {
            for (var i = 0; i < SessionFailedStartFixture.MaxStreams; i++)
            {
                streams.Add(veraConnection.Hub.JoinSession(session.Id));
                await streams[i].SnapshotAsync();
            }
            await using var oneTooMany = veraConnection.Hub.JoinSession(session.Id);
            var refused = await Assert.ThrowsAsync<HubException>(() => oneTooMany.Completion);
            Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(refused.Message));
            Assert.Equal(SessionFailedStartFixture.MaxStreams, state.MemberCount);
        }
        finally
        {
            foreach (var stream in streams)
                await stream.DisposeAsync();
        }
        await Timeouts.WaitUntilAsync(() => App.Activity.ActiveStreams == activeBefore, Timeouts.Default, "every stream's count given back");
        Assert.Equal(0, state.MemberCount);
        await ownerConnection.Hub.EndSessionAsync(session.Id);
    }
}

/// <summary>The real store, except that the next join, once asked for, fails before its first event.</summary>
internal sealed class FailingJoinStore(InMemorySessionStore inner) : ISessionStore
{
    private int _failNext;
    private int _failed;

    /// <summary>Joins that were made to fail.</summary>
    public int FailedJoins => Volatile.Read(ref _failed);

    public void FailNextJoin() => Volatile.Write(ref _failNext, 1);

    public async Task<ISessionMembership?> JoinAsync(string sessionId, SessionUser joiner, CancellationToken cancellationToken)
    {
        var membership = await inner.JoinAsync(sessionId, joiner, cancellationToken);
        if (membership is null || Interlocked.Exchange(ref _failNext, 0) == 0)
            return membership;
        Interlocked.Increment(ref _failed);
        return new FailingMembership(membership);
    }

    public Task AddAsync(StoredSession session, CancellationToken cancellationToken) => inner.AddAsync(session, cancellationToken);

    public Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken) => inner.FindAsync(sessionId, cancellationToken);

    public Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<bool> AnnotateAsync(string sessionId, SessionUser author, Annotation annotation, CancellationToken cancellationToken) =>
        inner.AnnotateAsync(sessionId, author, annotation, cancellationToken);

    public Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken) =>
        inner.SetSensorsAsync(sessionId, sensorIds, cancellationToken);

    public Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken) => inner.EndAsync(sessionId, cancellationToken);

    public Task<IReadOnlyList<StoredSession>> EndIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken) =>
        inner.EndIdleAsync(idleFor, cancellationToken);

    /// <summary>The joined membership, whose events cannot be read: leaving is still the real one's.</summary>
    private sealed class FailingMembership(ISessionMembership joined) : ISessionMembership
    {
        public ChannelReader<SessionEvent> Events { get; } = new ThrowingReader();

        public ValueTask DisposeAsync() => joined.DisposeAsync();
    }

    private sealed class ThrowingReader : ChannelReader<SessionEvent>
    {
        public override bool TryRead(out SessionEvent item)
        {
            item = null!;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromException<bool>(new InvalidOperationException("The stream's start failed after it joined (a test's fault)."));
    }
}
