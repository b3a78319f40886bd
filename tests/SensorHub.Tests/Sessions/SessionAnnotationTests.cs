using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>Annotations and sensor changes reach everyone in the session once, in one order; late joiners get them in the snapshot.</summary>
public sealed class SessionAnnotationTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task AnAnnotationReachesEveryParticipantOnceAndALateJoinerSeesItInTheSnapshot(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        var (alice, bob, carol) = (NewOperator("alice"), NewOperator("bob"), NewViewer("carol"));
        await using var aliceConnection = await app.ConnectAsync(protocol, alice);
        await using var bobConnection = await app.ConnectAsync(protocol, bob);
        await using var carolConnection = await app.ConnectAsync(protocol, carol);
        var session = await aliceConnection.Hub.CreateSessionAsync([Temperature, Humidity]);
        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        var before = DateTime.UtcNow;

        await bobConnection.Hub.AnnotateAsync(session.Id, "  bearing noise from here ", Temperature, 1_234);
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
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ChangedSensorsReachEveryParticipantAndTheList(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await app.ConnectAsync(protocol, alice);
        await using var bobConnection = await app.ConnectAsync(protocol, bob);
        var session = await aliceConnection.Hub.CreateSessionAsync([Temperature]);
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();

        await aliceConnection.Hub.SetSessionSensorsAsync(session.Id, [Humidity, Temperature, Humidity]);
        var changed = await bobStream.ExpectAsync(SessionEventKinds.SensorsChanged);
        await using var late = bobConnection.Hub.JoinSession(session.Id);
        var snapshot = await late.SnapshotAsync();

        Assert.Equal([Humidity, Temperature], changed.SensorIds!);
        Assert.Equal([Humidity, Temperature], snapshot.Session!.SensorIds);
        Assert.Equal([Humidity, Temperature], (await bobConnection.Hub.ListSessionsAsync()).Single(s => s.Id == session.Id).SensorIds);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }
}
