using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using static SensorHub.Tests.Sessions.SessionHarness;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Who a user is, is their id (the token's subject), never their name: ownership, invitations, presence and the
/// per-user limits go by it. A token without a subject may list and join, but neither own a session nor annotate.
/// </summary>
public sealed class SessionIdentityTests
{
    private const string Temperature = "plant-1/line-1/temperature";

    [Fact]
    public async Task TwoUsersWhoShareANameAreTwoParticipantsKeyedByTheirIds()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();

        await using var twin = harness.Join(AliceTwin, session.Id);
        var twinSnapshot = await twin.SnapshotAsync();
        var joined = await alice.ExpectAsync(SessionEventKinds.Joined);
        await twin.CancelAsync();
        var left = await alice.ExpectAsync(SessionEventKinds.Left);

        Assert.Equal(
            [new Participant { Id = "alice", Name = "alice", Connections = 1 }, new Participant { Id = "alice-2", Name = "alice", Connections = 1 }],
            twinSnapshot.Participants!);
        Assert.Equal(new Participant { Id = "alice-2", Name = "alice", Connections = 1 }, joined.Participant);
        Assert.Equal(new Participant { Id = "alice-2", Name = "alice", Connections = 0 }, left.Participant);
        Assert.Equal([new Participant { Id = "alice", Name = "alice", Connections = 1 }], harness.State(session.Id).Participants);
    }

    [Fact]
    public async Task TheOwnerIsTheCreatorsSubjectAndANamesakeMayNeitherEndNorChangeTheSession()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        // The same subject under another name (a renamed user) is still the owner.
        var renamed = new SensorHubUser(Alice.Id, "alice smith", [Roles.Operator], null);

        var end = await Assert.ThrowsAsync<SessionException>(() => harness.Service.EndAsync(AliceTwin, session.Id, CancellationToken.None));
        var setSensors = await Assert.ThrowsAsync<SessionException>(
            () => harness.Service.SetSensorsAsync(AliceTwin, session.Id, [Temperature], CancellationToken.None));
        await harness.Service.SetSensorsAsync(renamed, session.Id, [Temperature], CancellationToken.None);
        await harness.Service.EndAsync(renamed, session.Id, CancellationToken.None);

        Assert.Equal(("alice", "alice"), (session.Owner, session.OwnerId));
        Assert.Equal(SensorHubErrors.NotAllowed, end.Code);
        Assert.Equal($"Not allowed: only its owner or an admin may end session '{session.Id}'.", end.Message);
        Assert.Equal(SensorHubErrors.NotAllowed, setSensors.Code);
        Assert.Equal(0, harness.Store.Count);
    }

    [Fact]
    public async Task APrivateSessionAdmitsTheInvitedBySubjectNotByName()
    {
        using var harness = new SessionHarness();
        var robert = new SensorHubUser("sub-bob", "robert", [Roles.Viewer], null);
        var namedLikeTheSubject = new SensorHubUser("someone-else", "sub-bob", [Roles.Viewer], null);
        var session = await harness.CreateAsync(Alice, isPrivate: true, invited: ["sub-bob"]);

        await using var invited = harness.Join(robert, session.Id);
        var snapshot = await invited.SnapshotAsync();
        await using var impostor = harness.Join(namedLikeTheSubject, session.Id);
        var refused = await Assert.ThrowsAsync<SessionException>(() => impostor.Completion);
        await using var ownersNamesake = harness.Join(AliceTwin, session.Id);
        var namesakeRefused = await Assert.ThrowsAsync<SessionException>(() => ownersNamesake.Completion);

        Assert.Equal(session, snapshot.Session);
        Assert.Equal([session], await harness.Service.ListAsync(robert, CancellationToken.None));
        Assert.Equal(SensorHubErrors.UnknownSession, refused.Code);
        Assert.Equal(SensorHubErrors.UnknownSession, namesakeRefused.Code);
        Assert.Empty(await harness.Service.ListAsync(namedLikeTheSubject, CancellationToken.None));
        Assert.Empty(await harness.Service.ListAsync(AliceTwin, CancellationToken.None));
    }

    [Fact]
    public async Task OpenSessionsAndTheAnnotationRateAreCountedPerSubject()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { MaxOpenSessionsPerUser = 1, AnnotationRateLimit = 1, AnnotationRatePeriod = TimeSpan.FromHours(1) });
        var session = await harness.CreateAsync(Alice);

        var secondOfAlice = await Assert.ThrowsAsync<SessionException>(() => harness.CreateAsync(Alice));
        var twins = await harness.CreateAsync(AliceTwin);
        var first = await harness.AnnotateAsync(Alice, session.Id, "first");
        var tooFast = await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "again"));
        var byTwin = await harness.AnnotateAsync(AliceTwin, session.Id, "the other alice");

        Assert.Equal(SensorHubErrors.TooManySessions, secondOfAlice.Code);
        Assert.Equal(("alice", "alice-2"), (twins.Owner, twins.OwnerId));
        Assert.Equal(SensorHubErrors.RateLimited, tooFast.Code);
        Assert.Equal(("alice", "alice"), (first.Author, first.AuthorId));
        Assert.Equal(("alice", "alice-2"), (byTwin.Author, byTwin.AuthorId));
    }

    [Fact]
    public async Task ATokenWithoutASubjectMayListAndJoinButNeitherCreateNorAnnotate()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        var sessionsBefore = harness.Store.Count;

        var create = await Assert.ThrowsAsync<SessionException>(() => harness.CreateAsync(Nameless));
        var annotate = await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Nameless, session.Id, "hello"));
        var listed = await harness.Service.ListAsync(Nameless, CancellationToken.None);
        await using var stream = harness.Join(Nameless, session.Id);
        var snapshot = await stream.SnapshotAsync();

        Assert.Equal(SensorHubErrors.NotAllowed, create.Code);
        Assert.Equal(
            "Not allowed: your token has no subject ('sub' claim), so it may not own a session: a session is owned by its creator's subject. " +
            "A token without a subject may list and join sessions only.",
            create.Message);
        Assert.Equal(SensorHubErrors.NotAllowed, annotate.Code);
        Assert.StartsWith("Not allowed: your token has no subject ('sub' claim), so it may not annotate", annotate.Message, StringComparison.Ordinal);
        Assert.Equal(sessionsBefore, harness.Store.Count);
        Assert.Equal([session], listed);
        Assert.Equal("nameless", Assert.Single(snapshot.Participants!).Name);
        Assert.Empty(snapshot.Annotations!);
    }

    [Fact]
    public async Task EachStreamOfATokenWithoutASubjectIsAParticipantOfItsOwn()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();

        await using var first = harness.Join(Nameless, session.Id);
        await first.SnapshotAsync();
        var firstJoined = (await alice.ExpectAsync(SessionEventKinds.Joined)).Participant!;
        await using var second = harness.Join(Nameless, session.Id);
        var secondSnapshot = await second.SnapshotAsync();
        var secondJoined = (await alice.ExpectAsync(SessionEventKinds.Joined)).Participant!;
        await first.CancelAsync();
        var left = (await alice.ExpectAsync(SessionEventKinds.Left)).Participant!;

        foreach (var participant in new[] { firstJoined, secondJoined })
        {
            Assert.Equal(("nameless", 1), (participant.Name, participant.Connections));
            Assert.StartsWith(SessionService.StreamIdPrefix, participant.Id, StringComparison.Ordinal);
            Assert.True(SessionService.IsWellFormedId(participant.Id[SessionService.StreamIdPrefix.Length..]), participant.Id);
        }
        Assert.NotEqual(firstJoined.Id, secondJoined.Id);
        Assert.Equal(3, secondSnapshot.Participants!.Length);
        Assert.Equal(firstJoined with { Connections = 0 }, left);
        Assert.Equal(
            [new Participant { Id = "alice", Name = "alice", Connections = 1 }, secondJoined],
            harness.State(session.Id).Participants);
    }
}
