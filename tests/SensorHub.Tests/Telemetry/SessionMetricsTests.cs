using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Redis.Sessions;
using SensorHub.Tests.Sessions;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// Participants and events of live sessions on the embedded store: a user is one participant however many streams
/// they hold, an event is counted once (not once per participant it reaches), and a joiner's snapshot is no event.
/// </summary>
public sealed class SessionMetricsTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Fact]
    public async Task AUserIsOneParticipantAndEachEventIsCountedOnce()
    {
        var app = apps[Transport.TestServer];
        using var meters = new SessionCollectors(app);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await app.ConnectAsync(Protocol.Json, alice);
        await using var bobConnection = await app.ConnectAsync(Protocol.Json, bob);
        var session = await aliceConnection.Hub.CreateSessionAsync();

        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bob1 = bobConnection.Hub.JoinSession(session.Id);
        await bob1.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        await using var bob2 = bobConnection.Hub.JoinSession(session.Id);
        await bob2.SnapshotAsync();
        Assert.Equal([1L, 1L], meters.ParticipantChanges);

        await aliceConnection.Hub.AnnotateAsync(session.Id, "three streams get this once");
        await bob2.ExpectAsync(SessionEventKinds.Annotated);
        await aliceStream.ExpectAsync(SessionEventKinds.Annotated);
        await bob1.CancelAsync();
        await bob2.CancelAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Left);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
        await aliceStream.ExpectAsync(SessionEventKinds.Ended);

        Assert.Equal("{participant}", meters.Participants.Instrument!.Unit);
        Assert.Equal([1L, 1L, -1L, -1L], meters.ParticipantChanges);
        Assert.Equal("{event}", meters.Events.Instrument!.Unit);
        Assert.Equal(
            new Dictionary<string, long>
            {
                [SessionEventKinds.Joined] = 2,
                [SessionEventKinds.Annotated] = 1,
                [SessionEventKinds.Left] = 1,
                [SessionEventKinds.Ended] = 1,
            },
            meters.EventsByKind());
    }
}

/// <summary>The session instruments of one node, on its own meter factory.</summary>
internal sealed class SessionCollectors : IDisposable
{
    public SessionCollectors(SensorHubApplication node)
    {
        var factory = node.Services.GetRequiredService<IMeterFactory>();
        Participants = new MetricCollector<long>(factory, SensorHubTelemetry.MeterName, SessionMetrics.ParticipantsActiveInstrument);
        Events = new MetricCollector<long>(factory, SensorHubTelemetry.MeterName, SessionMetrics.EventsPublishedInstrument);
    }

    public MetricCollector<long> Participants { get; }

    public MetricCollector<long> Events { get; }

    /// <summary>Every change of the up-down counter, in order.</summary>
    public long[] ParticipantChanges => Participants.GetMeasurementSnapshot().Select(m => m.Value).ToArray();

    /// <summary>The node's participants now: the sum of its changes.</summary>
    public long ParticipantsNow => Participants.GetMeasurementSnapshot().Sum(m => m.Value);

    /// <summary>The events counted, by their kind tag.</summary>
    public Dictionary<string, long> EventsByKind() =>
        Events.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[SensorHubTelemetry.SessionEventKind]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));

    public void Dispose()
    {
        Participants.Dispose();
        Events.Dispose();
    }
}

/// <summary>
/// The same instruments across three nodes on one Redis: each event is counted by the node whose script published
/// it, not by the nodes that deliver it, and a user with streams on two nodes is one participant in the sum over
/// the nodes, also when the node that counted them loses its stream.
/// </summary>
public sealed class RedisSessionMetricsTests(RedisSessionCluster cluster) : IClassFixture<RedisSessionCluster>
{
    [Fact]
    public async Task EventsAreCountedWhereTheyArePublishedAndParticipantsOnceOverTheNodes()
    {
        using var onA = new SessionCollectors(cluster.A);
        using var onB = new SessionCollectors(cluster.B);
        using var onC = new SessionCollectors(cluster.C);
        long Sum() => onA.ParticipantsNow + onB.ParticipantsNow + onC.ParticipantsNow;
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceOnC = await cluster.C.ConnectAsync(Protocol.Json, alice);
        await using var bobOnA = await cluster.A.ConnectAsync(Protocol.Json, bob);
        await using var bobOnB = await cluster.B.ConnectAsync(Protocol.Json, bob);
        var session = await aliceOnC.Hub.CreateSessionAsync();

        await using var aliceStream = aliceOnC.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStreamOnA = bobOnA.Hub.JoinSession(session.Id);
        await bobStreamOnA.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        await using var bobStreamOnB = bobOnB.Hub.JoinSession(session.Id);
        await bobStreamOnB.SnapshotAsync();
        await aliceOnC.Hub.AnnotateAsync(session.Id, "seen on three nodes, published on one");
        await bobStreamOnA.ExpectAsync(SessionEventKinds.Annotated);
        await bobStreamOnB.ExpectAsync(SessionEventKinds.Annotated);
        await aliceStream.ExpectAsync(SessionEventKinds.Annotated);

        // A node counts an event when its script returns, which may be after the others have heard of it.
        await Timeouts.WaitUntilAsync(
            () => onA.EventsByKind().GetValueOrDefault(SessionEventKinds.Joined) == 1 && onC.EventsByKind().Count == 2,
            Timeouts.Default,
            "A counted bob's joined and C alice's joined and annotation");
        Assert.Equal(new Dictionary<string, long> { [SessionEventKinds.Joined] = 1 }, onA.EventsByKind());
        Assert.Empty(onB.EventsByKind());
        Assert.Equal(new Dictionary<string, long> { [SessionEventKinds.Joined] = 1, [SessionEventKinds.Annotated] = 1 }, onC.EventsByKind());
        await Timeouts.WaitUntilAsync(() => Sum() == 2 && onC.ParticipantsNow == 1, Timeouts.Default, "alice and bob counted once each");
        Assert.Equal(1, onA.ParticipantsNow + onB.ParticipantsNow);

        // Bob's stream on A goes: bob stays (on B), and whichever node counted him, B counts him now.
        await bobStreamOnA.CancelAsync();
        await Timeouts.WaitUntilAsync(() => onA.ParticipantsNow == 0 && onB.ParticipantsNow == 1, Timeouts.Default, "B counts bob");
        Assert.Equal(2, Sum());
        await bobStreamOnB.CancelAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Left);
        await Timeouts.WaitUntilAsync(() => Sum() == 1, Timeouts.Default, "bob left");
        // Bob's left is counted once, by the node whose script published it: B when its leave came last, A when A's
        // leave ran after B's (both streams' leaves race), or another node that cleaned up a node taken for dead.
        long LeftOn(SessionCollectors node) => node.EventsByKind().GetValueOrDefault(SessionEventKinds.Left);
        await Timeouts.WaitUntilAsync(() => LeftOn(onA) + LeftOn(onB) + LeftOn(onC) == 1, Timeouts.Default, "bob's left counted");
        Assert.Equal(1, LeftOn(onA) + LeftOn(onB) + LeftOn(onC));
        Assert.DoesNotContain(onB.EventsByKind().Keys, kind => kind != SessionEventKinds.Left);

        await aliceOnC.Hub.EndSessionAsync(session.Id);
        await aliceStream.ExpectAsync(SessionEventKinds.Ended);
        await Timeouts.WaitUntilAsync(() => Sum() == 0, Timeouts.Default, "nobody is present");
        Assert.Equal(1, onC.EventsByKind()[SessionEventKinds.Ended]);
        Assert.Equal("{participant}", onA.Participants.Instrument!.Unit);
    }
}
