using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Annotations and sensor changes reach everyone in the session once, in one order; late joiners get them in the
/// snapshot. On every engine: the session is made on A, joined on B, annotated on C.
/// </summary>
public sealed class SessionAnnotationTests(EngineFixture engines) : IClassFixture<EngineFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task AnAnnotationReachesEveryParticipantOnceAndALateJoinerSeesItInTheSnapshot(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob, carol) = (NewOperator("alice"), NewOperator("bob"), NewViewer("carol"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        await using var bobOnC = await nodes.C.ConnectAsync(protocol, bob);
        await using var carolConnection = await nodes.B.ConnectAsync(protocol, carol);
        var session = await aliceConnection.Hub.CreateSessionAsync([Temperature, Humidity]);
        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        var before = DateTime.UtcNow;

        await bobOnC.Hub.AnnotateAsync(session.Id, "  bearing noise from here ", Temperature, 1_234);
        var toAlice = (await aliceStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!;
        var toBob = (await bobStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!;
        await using var carolStream = carolConnection.Hub.JoinSession(session.Id);
        var lateSnapshot = await carolStream.SnapshotAsync();
        // Carol's arrival is the next event everyone else sees: nothing came twice before it.
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        await bobStream.ExpectAsync(SessionEventKinds.Joined);

        Assert.Equal(toAlice, toBob);
        Assert.Equal("bearing noise from here", toAlice.Text);
        Assert.Equal(bob.Name, toAlice.Author);
        Assert.Equal(Temperature, toAlice.SensorId);
        Assert.Equal(1_234, toAlice.Sequence);
        Assert.Equal(32, toAlice.Id.Length);
        Assert.Equal(DateTimeKind.Utc, toAlice.Time.Kind);
        Assert.InRange(toAlice.Time, before.AddSeconds(-5), DateTime.UtcNow.AddSeconds(5));
        Assert.Equal([toAlice], lateSnapshot.Annotations!);
        Assert.Equal(3, lateSnapshot.Participants!.Length);
        aliceStream.AssertNothingPending();
        bobStream.AssertNothingPending();
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ChangedSensorsReachEveryParticipantAndTheList(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var aliceOnC = await nodes.C.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        var session = await aliceConnection.Hub.CreateSessionAsync([Temperature]);
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();

        await aliceOnC.Hub.SetSessionSensorsAsync(session.Id, [Humidity, Temperature, Humidity]);
        var changed = await bobStream.ExpectAsync(SessionEventKinds.SensorsChanged);
        await using var late = bobConnection.Hub.JoinSession(session.Id);
        var snapshot = await late.SnapshotAsync();

        Assert.Equal([Humidity, Temperature], changed.SensorIds!);
        Assert.Equal([Humidity, Temperature], snapshot.Session!.SensorIds);
        Assert.Equal([Humidity, Temperature], (await bobConnection.Hub.ListSessionsAsync()).Single(s => s.Id == session.Id).SensorIds);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }
}
