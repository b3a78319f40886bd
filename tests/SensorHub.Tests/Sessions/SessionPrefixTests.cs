using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using static SensorHub.Tests.Sessions.SessionHarness;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// A token's sensor prefixes bound sessions: a session is visible only to whoever may read every one of its sensors,
/// and answers everyone else exactly as an unknown one; annotations carry nothing outside a member's prefixes; a change
/// of sensors ends the streams of those who may not read the new ones, as if the session were unknown to them.
/// </summary>
public sealed class SessionPrefixTests
{
    private const string Temperature = "plant-1/line-1/temperature";
    private const string Humidity = "plant-1/line-1/humidity";
    private const string Power = "plant-2/line-1/power";

    /// <summary>A viewer who may read only the sensors under <c>plant-1/</c>.</summary>
    private static readonly SensorHubUser s_plant1Viewer = new("val", "val", [Roles.Viewer], ["plant-1/"]);

    /// <summary>An admin whose token is bounded to <c>plant-1/</c>: prefixes bound admins too.</summary>
    private static readonly SensorHubUser s_plant1Admin = new("ada", "ada", [Roles.Admin], ["plant-1/"]);

    [Fact]
    public async Task ASessionOnASensorOutsideTheCallersPrefixesIsUnknownToItInEveryCall()
    {
        using var harness = new SessionHarness();
        var mixed = await harness.CreateAsync(Alice, [Temperature, Power]);
        var inside = await harness.CreateAsync(Alice, [Temperature, Humidity]);
        var neverMade = Guid.NewGuid().ToString("N");
        string Unknown(SessionException error) => error.Message.Replace(mixed.Id, neverMade, StringComparison.Ordinal);
        var expected = (await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Plant1Operator, neverMade, "x"))).Message;

        foreach (var caller in new[] { Plant1Operator, s_plant1Viewer, s_plant1Admin })
        {
            await using var join = harness.Join(caller, mixed.Id);
            var joinError = await Assert.ThrowsAsync<SessionException>(() => join.Completion);
            Assert.Equal(expected, Unknown(joinError));
            Assert.Equal(SensorHubErrors.UnknownSession, joinError.Code);
            Assert.Equal([inside], await harness.Service.ListAsync(caller, CancellationToken.None));
        }
        var annotate = await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Plant1Operator, mixed.Id, "x", Temperature));
        var setSensors = await Assert.ThrowsAsync<SessionException>(
            () => harness.Service.SetSensorsAsync(s_plant1Admin, mixed.Id, [Temperature], CancellationToken.None));
        var end = await Assert.ThrowsAsync<SessionException>(() => harness.Service.EndAsync(s_plant1Admin, mixed.Id, CancellationToken.None));

        foreach (var error in new[] { annotate, setSensors, end })
        {
            Assert.Equal(SensorHubErrors.UnknownSession, error.Code);
            Assert.Equal(expected, Unknown(error));
        }
        Assert.Equal([Temperature, Power], harness.State(mixed.Id).Stored.Info.SensorIds);
        Assert.Empty(harness.State(mixed.Id).Participants);
        Assert.Equal([inside, mixed], (await harness.Service.ListAsync(Root, CancellationToken.None)).OrderBy(s => s.Id == mixed.Id));
    }

    [Fact]
    public async Task ASnapshotLeavesOutTheAnnotationsAboutSensorsOutsideTheJoinersPrefixes()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, [Temperature, Power]);
        var aboutPower = await harness.AnnotateAsync(Alice, session.Id, "power dips", Power, 7);
        var aboutTemperature = await harness.AnnotateAsync(Alice, session.Id, "warm", Temperature);
        var aboutAll = await harness.AnnotateAsync(Alice, session.Id, "shift change");
        // Power leaves the session; its annotation stays among the recent ones.
        await harness.Service.SetSensorsAsync(Alice, session.Id, [Temperature], CancellationToken.None);

        await using var bounded = harness.Join(s_plant1Viewer, session.Id);
        var boundedSnapshot = await bounded.SnapshotAsync();
        await using var unbounded = harness.Join(Vera, session.Id);
        var unboundedSnapshot = await unbounded.SnapshotAsync();

        Assert.Equal([aboutTemperature, aboutAll], boundedSnapshot.Annotations!);
        Assert.Equal([aboutPower, aboutTemperature, aboutAll], unboundedSnapshot.Annotations!);
    }

    [Fact]
    public async Task ChangingSensorsEndsTheStreamOfWhoeverMayNotReadThemAsIfTheSessionWereUnknown()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, [Temperature]);
        await using var vera = harness.Join(Vera, session.Id);
        await vera.SnapshotAsync();
        await using var val = harness.Join(s_plant1Viewer, session.Id);
        await val.SnapshotAsync();
        await vera.ExpectAsync(SessionEventKinds.Joined);

        await harness.Service.SetSensorsAsync(Alice, session.Id, [Temperature, Power], CancellationToken.None);

        var error = await Assert.ThrowsAsync<SessionException>(() => val.NextAsync());
        Assert.Equal(SessionException.Unknown(session.Id).Message, error.Message);
        Assert.Equal(SensorHubErrors.UnknownSession, error.Code);
        Assert.Equal([Temperature, Power], (await vera.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Equal(new Participant { Id = "val", Name = "val", Connections = 0 }, (await vera.ExpectAsync(SessionEventKinds.Left)).Participant);
        Assert.Equal([new Participant { Id = "vera", Name = "vera", Connections = 1 }], harness.State(session.Id).Participants);
        Assert.Equal(1, harness.State(session.Id).MemberCount);
        // From now on the session is unknown to val everywhere.
        Assert.Empty(await harness.Service.ListAsync(s_plant1Viewer, CancellationToken.None));
        await using var again = harness.Join(s_plant1Viewer, session.Id);
        Assert.Equal(SensorHubErrors.UnknownSession, (await Assert.ThrowsAsync<SessionException>(() => again.Completion)).Code);
        // Its generator's finally has left once more (the stream failed through it): that must not count val's departure twice.
        await harness.AnnotateAsync(Alice, session.Id, "after val");
        Assert.Equal("after val", (await vera.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        vera.AssertNothingPending();
    }

    [Fact]
    public async Task AnEvictedStreamOfAUserWhoseOtherStreamMayStayIsNoDeparture()
    {
        using var harness = new SessionHarness();
        // One person, two tokens: one bounded to plant-1/, one not.
        var boundedTab = new SensorHubUser("sam", "sam", [Roles.Viewer], ["plant-1/"]);
        var unboundedTab = new SensorHubUser("sam", "sam", [Roles.Viewer], null);
        var session = await harness.CreateAsync(Alice, [Temperature]);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();
        await using var bounded = harness.Join(boundedTab, session.Id);
        await bounded.SnapshotAsync();
        await using var unbounded = harness.Join(unboundedTab, session.Id);
        await unbounded.SnapshotAsync();
        await alice.ExpectAsync(SessionEventKinds.Joined);

        await harness.Service.SetSensorsAsync(Alice, session.Id, [Power], CancellationToken.None);

        await Assert.ThrowsAsync<SessionException>(() => bounded.NextAsync());
        Assert.Equal([Power], (await unbounded.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Equal([Power], (await alice.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Contains(new Participant { Id = "sam", Name = "sam", Connections = 1 }, harness.State(session.Id).Participants);
        await unbounded.CancelAsync();
        Assert.Equal(new Participant { Id = "sam", Name = "sam", Connections = 0 }, (await alice.ExpectAsync(SessionEventKinds.Left)).Participant);
        alice.AssertNothingPending();
    }

    [Fact]
    public async Task TheStoreRefusesAJoinOrAnAnnotationByWhoeverMayNotReadTheSensorsAtThatMoment()
    {
        // The service looks first, but the sensors may change between its look and the store's lock.
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, [Temperature, Power]);
        await using var watcher = harness.Join(Root, session.Id);
        await watcher.SnapshotAsync();
        var bounded = new SessionUser("val", "val", ["plant-1/"]);
        var annotation = new Annotation { Id = Guid.NewGuid().ToString("N"), Author = "val", AuthorId = "val", Text = "sneaky" };

        var membership = await harness.Store.JoinAsync(session.Id, bounded, CancellationToken.None);
        var annotated = await harness.Store.AnnotateAsync(session.Id, bounded, annotation, CancellationToken.None);

        Assert.Null(membership);
        Assert.False(annotated);
        Assert.DoesNotContain(harness.State(session.Id).Participants, p => p.Id == "val");
        await using var late = harness.Join(Vera, session.Id);
        Assert.Empty((await late.SnapshotAsync()).Annotations!);
        // The next event the watcher sees is the late join: neither the refused join nor the annotation came before it.
        Assert.Equal("vera", (await watcher.ExpectAsync(SessionEventKinds.Joined)).Participant!.Name);
        watcher.AssertNothingPending();
    }
}
