using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Over the hub, with tokens minted apart from dev tokens: presence, ownership and invitations go by the token's
/// subject, never by its name; a token without a subject may list and join, but neither create a session nor annotate.
/// </summary>
public sealed class SessionSubjectHubTests(EngineFixture engines) : IClassFixture<EngineFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task TwoUsersWhoShareANameAreTwoParticipantsAndOnlyTheCreatorOwnsTheSession(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var alice = NewOperator("alice");
        var (first, second) = (UniqueName("sub-1"), UniqueName("sub-2"));
        await using var firstConnection = await nodes.A.ConnectAsSubjectAsync(protocol, alice, first);
        await using var secondConnection = await nodes.B.ConnectAsSubjectAsync(protocol, alice, second);
        var session = await firstConnection.Hub.CreateSessionAsync();
        await using var firstStream = firstConnection.Hub.JoinSession(session.Id);
        await firstStream.SnapshotAsync();

        await using var secondStream = secondConnection.Hub.JoinSession(session.Id);
        var secondSnapshot = await secondStream.SnapshotAsync();
        var joined = await firstStream.ExpectAsync(SessionEventKinds.Joined);
        var end = await Assert.ThrowsAsync<HubException>(() => secondConnection.Hub.EndSessionAsync(session.Id));
        var setSensors = await Assert.ThrowsAsync<HubException>(() => secondConnection.Hub.SetSessionSensorsAsync(session.Id, [Humidity]));
        await secondStream.CancelAsync();
        var left = await firstStream.ExpectAsync(SessionEventKinds.Left);

        Assert.Equal((alice.Name, first), (session.Owner, session.OwnerId));
        Assert.Equal(
            new[] { new Participant { Id = first, Name = alice.Name, Connections = 1 }, new Participant { Id = second, Name = alice.Name, Connections = 1 } }
                .OrderBy(p => p.Id, StringComparer.Ordinal),
            secondSnapshot.Participants!);
        Assert.Equal(new Participant { Id = second, Name = alice.Name, Connections = 1 }, joined.Participant);
        Assert.Equal(new Participant { Id = second, Name = alice.Name, Connections = 0 }, left.Participant);
        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(end.Message));
        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(setSensors.Message));
        Assert.Equal([new Participant { Id = first, Name = alice.Name, Connections = 1 }], await nodes.C.ParticipantsAsync(session.Id));
        await firstConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task APrivateSessionAdmitsTheInvitedBySubjectNotByName(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var bobSubject = UniqueName("sub-bob");
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, NewOperator("alice"));
        await using var bobConnection = await nodes.B.ConnectAsSubjectAsync(protocol, NewViewer("robert"), bobSubject);
        await using var impostorConnection = await nodes.C.ConnectAsSubjectAsync(protocol, TestUser.Viewer(bobSubject), UniqueName("sub-other"));
        var session = await aliceConnection.Hub.CreateSessionAsync(isPrivate: true, invited: [bobSubject]);

        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        var snapshot = await bobStream.SnapshotAsync();
        await using var impostorStream = impostorConnection.Hub.JoinSession(session.Id);
        var refused = await Assert.ThrowsAsync<HubException>(() => impostorStream.Completion);

        AssertSame(session, snapshot.Session);
        Assert.Equal(SensorHubErrors.UnknownSession, SensorHubErrors.CodeOf(refused.Message));
        Assert.DoesNotContain(await impostorConnection.Hub.ListSessionsAsync(), s => s.Id == session.Id);
        Assert.Contains(await bobConnection.Hub.ListSessionsAsync(), s => s.Id == session.Id);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ATokenWithoutASubjectMayListAndJoinOneParticipantPerStreamButNeitherCreateNorAnnotate(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var nameless = NewOperator("nameless");
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, NewOperator("alice"));
        await using var namelessConnection = await nodes.B.ConnectAsSubjectAsync(protocol, nameless, subject: null);
        var session = await aliceConnection.Hub.CreateSessionAsync();
        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();

        var create = await Assert.ThrowsAsync<HubException>(() => namelessConnection.Hub.CreateSessionAsync());
        var annotate = await Assert.ThrowsAsync<HubException>(() => namelessConnection.Hub.AnnotateAsync(session.Id, "hello"));
        var listed = await namelessConnection.Hub.ListSessionsAsync();
        await using var tab1 = namelessConnection.Hub.JoinSession(session.Id);
        await tab1.SnapshotAsync();
        var joined1 = (await aliceStream.ExpectAsync(SessionEventKinds.Joined)).Participant!;
        await using var tab2 = namelessConnection.Hub.JoinSession(session.Id);
        await tab2.SnapshotAsync();
        var joined2 = (await aliceStream.ExpectAsync(SessionEventKinds.Joined)).Participant!;
        await tab1.CancelAsync();
        var left = (await aliceStream.ExpectAsync(SessionEventKinds.Left)).Participant!;

        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(create.Message));
        Assert.Contains("Not allowed: your token has no subject ('sub' claim), so it may not own a session", create.Message, StringComparison.Ordinal);
        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(annotate.Message));
        Assert.Contains("Not allowed: your token has no subject ('sub' claim), so it may not annotate", annotate.Message, StringComparison.Ordinal);
        Assert.Contains(listed, s => s.Id == session.Id);
        Assert.DoesNotContain(listed, s => s.Owner == nameless.Name);
        foreach (var participant in new[] { joined1, joined2 })
        {
            Assert.Equal((nameless.Name, 1), (participant.Name, participant.Connections));
            Assert.StartsWith(SessionService.StreamIdPrefix, participant.Id, StringComparison.Ordinal);
        }
        Assert.NotEqual(joined1.Id, joined2.Id);
        Assert.Equal(joined1 with { Connections = 0 }, left);
        Assert.Equal(HubConnectionState.Connected, namelessConnection.Hub.State);
        aliceStream.AssertNothingPending();
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }
}
