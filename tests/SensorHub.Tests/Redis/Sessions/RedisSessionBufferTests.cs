using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Redis.Sessions;

/// <summary>On a cluster whose streams buffer 10 events: a stream that does not read falls behind alone; idle sessions end once, whichever nodes sweep.</summary>
public sealed class RedisSessionBufferTests(SmallBufferCluster cluster) : IClassFixture<SmallBufferCluster>
{
    private static readonly SessionUser Reader = new("slow-reader", "slow reader", null);

    [Fact]
    public async Task AStreamThatDoesNotReadFallsBehindAloneWhileAnotherOnItsNodeGetsEverything()
    {
        await using var alice = await cluster.A.ConnectAsync(Protocol.Json, NewOperator("alice"));
        var session = await alice.Hub.CreateSessionAsync();
        var store = cluster.B.Services.GetRequiredService<ISessionStore>();
        await using var slow = (await store.JoinAsync(session.Id, Reader with { Id = UniqueName("slow") }, CancellationToken.None))!;
        await using var watcher = alice.Hub.JoinSession(session.Id);
        await watcher.SnapshotAsync();
        await using var fast = (await store.JoinAsync(session.Id, Reader with { Id = UniqueName("fast") }, CancellationToken.None))!;
        var fastEvents = new List<SessionEvent>();
        Assert.True(fast.Events.TryRead(out var snapshot) && snapshot.Kind == SessionEventKinds.Snapshot);

        for (var i = 0; i < 12; i++)
        {
            await alice.Hub.AnnotateAsync(session.Id, $"note {i}");
            while (fastEvents.Count(e => e.Kind == SessionEventKinds.Annotated) <= i)
                fastEvents.Add(await fast.Events.ReadAsync().AsTask().WaitAsync(Timeouts.Default));
        }

        var buffered = 0;
        var error = await Assert.ThrowsAsync<SessionException>(async () =>
        {
            await foreach (var _ in slow.Events.ReadAllAsync().WithCancellation(CancellationToken.None))
                buffered++;
        });
        Assert.Equal(SensorHubErrors.FellBehind, error.Code);
        Assert.Equal(10, buffered);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"note {i}"), fastEvents.Where(e => e.Kind == SessionEventKinds.Annotated).Select(e => e.Annotation!.Text));
        await alice.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task AnIdleSessionSweptByEveryNodeAtOnceEndsOnce()
    {
        await using var alice = await cluster.A.ConnectAsync(Protocol.Json, NewOperator("alice"));
        var session = await alice.Hub.CreateSessionAsync();
        await using var aliceStream = alice.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        var stores = new[] { cluster.A, cluster.B, cluster.C }.Select(RedisSessionCluster.StoreOf).ToArray();

        var busy = await Task.WhenAll(stores.Select(s => s.EndIdleAsync(TimeSpan.FromMilliseconds(1), CancellationToken.None)));
        Assert.DoesNotContain(busy.SelectMany(e => e), s => s.Info.Id == session.Id);
        await aliceStream.CancelAsync();
        await Timeouts.WaitUntilAsync(async () => (await RedisSessionCluster.ParticipantsAsync(cluster.A, session.Id)).Length == 0, Timeouts.Default, "alice left");
        await Task.Delay(20);
        var ended = await Task.WhenAll(stores.Select(s => s.EndIdleAsync(TimeSpan.FromMilliseconds(10), CancellationToken.None)));

        Assert.Single(ended.SelectMany(e => e), s => s.Info.Id == session.Id);
        Assert.Null(await stores[1].FindAsync(session.Id, CancellationToken.None));
    }
}
