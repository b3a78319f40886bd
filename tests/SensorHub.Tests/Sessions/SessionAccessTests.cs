using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Who may see, join, annotate, change and end a session; a private session is unknown to whoever may not see it. On
/// every engine: each user's calls go through a node of their own (A, B, C).
/// </summary>
public sealed class SessionAccessTests(EngineFixture engines) : IClassFixture<EngineFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task PrivateSessionRefusesTheUninvitedAsUnknownAndAdmitsTheInvited(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, invited, stranger) = (NewOperator("alice"), NewViewer("ivan"), NewOperator("sam"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var invitedConnection = await nodes.B.ConnectAsync(protocol, invited);
        await using var strangerConnection = await nodes.C.ConnectAsync(protocol, stranger);
        await using var adminConnection = await nodes.C.ConnectAsync(protocol);
        var session = await aliceConnection.Hub.CreateSessionAsync(isPrivate: true, invited: [invited.Name]);
        var unknown = $"sessionId: no session '{session.Id}' is known.";
        var neverMade = Guid.NewGuid().ToString("N");

        await using var strangerJoin = strangerConnection.Hub.JoinSession(session.Id);
        var join = await Assert.ThrowsAsync<HubException>(() => strangerJoin.Completion);
        await using var nobodyJoin = strangerConnection.Hub.JoinSession(neverMade);
        var neverMadeJoin = await Assert.ThrowsAsync<HubException>(() => nobodyJoin.Completion);
        var annotate = await Assert.ThrowsAsync<HubException>(() => strangerConnection.Hub.AnnotateAsync(session.Id, "hello?"));
        var end = await Assert.ThrowsAsync<HubException>(() => strangerConnection.Hub.EndSessionAsync(session.Id));
        var setSensors = await Assert.ThrowsAsync<HubException>(() => strangerConnection.Hub.SetSessionSensorsAsync(session.Id, [Humidity]));

        Assert.Equal(neverMadeJoin.Message.Replace(neverMade, session.Id, StringComparison.Ordinal), join.Message);
        foreach (var error in new[] { join, annotate, end, setSensors })
            Assert.Contains(unknown, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await strangerConnection.Hub.ListSessionsAsync(), s => s.Id == session.Id);
        Assert.Empty(await nodes.C.ParticipantsAsync(session.Id));

        foreach (var connection in new[] { aliceConnection, invitedConnection, adminConnection })
        {
            AssertSame(session, (await connection.Hub.ListSessionsAsync()).Single(s => s.Id == session.Id));
            await using var stream = connection.Hub.JoinSession(session.Id);
            AssertSame(session, (await stream.SnapshotAsync()).Session);
        }
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task AViewerMayJoinButNotCreateAnnotateOrChangeSensors(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, vera) = (NewOperator("alice"), NewViewer("vera"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var veraConnection = await nodes.B.ConnectAsync(protocol, vera);
        var session = await aliceConnection.Hub.CreateSessionAsync();
        await using var veraStream = veraConnection.Hub.JoinSession(session.Id);
        await veraStream.SnapshotAsync();

        var create = await Assert.ThrowsAsync<HubException>(() => veraConnection.Hub.CreateSessionAsync());
        var annotate = await Assert.ThrowsAsync<HubException>(() => veraConnection.Hub.AnnotateAsync(session.Id, "my two cents"));
        var setSensors = await Assert.ThrowsAsync<HubException>(() => veraConnection.Hub.SetSessionSensorsAsync(session.Id, [Humidity]));
        await aliceConnection.Hub.AnnotateAsync(session.Id, "after the refusals");

        Assert.Contains("Not allowed: CreateSession needs the operator or admin role", create.Message, StringComparison.Ordinal);
        Assert.Contains("Not allowed: Annotate needs the operator or admin role", annotate.Message, StringComparison.Ordinal);
        Assert.Contains("Not allowed: SetSessionSensors needs the operator or admin role", setSensors.Message, StringComparison.Ordinal);
        // Nothing the viewer tried reached the session: the next event is the owner's annotation.
        Assert.Equal("after the refusals", (await veraStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        AssertSame(session, (await veraConnection.Hub.ListSessionsAsync()).Single(s => s.Id == session.Id));
        Assert.DoesNotContain(await veraConnection.Hub.ListSessionsAsync(), s => s.Owner == vera.Name);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task OnlyTheOwnerOrAnAdminMayEndASessionOrChangeItsSensors(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewOperator("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        await using var adminConnection = await nodes.C.ConnectAsync(protocol);
        var first = await aliceConnection.Hub.CreateSessionAsync();
        var second = await aliceConnection.Hub.CreateSessionAsync();
        await using var bobStream = bobConnection.Hub.JoinSession(first.Id);
        await bobStream.SnapshotAsync();

        var end = await Assert.ThrowsAsync<HubException>(() => bobConnection.Hub.EndSessionAsync(first.Id));
        var setSensors = await Assert.ThrowsAsync<HubException>(() => bobConnection.Hub.SetSessionSensorsAsync(first.Id, [Humidity]));
        Assert.NotNull(await nodes.C.FindSessionAsync(first.Id));
        await adminConnection.Hub.SetSessionSensorsAsync(first.Id, [Humidity]);
        await adminConnection.Hub.EndSessionAsync(first.Id);
        await aliceConnection.Hub.EndSessionAsync(second.Id);

        Assert.Contains($"Not allowed: only its owner or an admin may end session '{first.Id}'.", end.Message, StringComparison.Ordinal);
        Assert.Contains($"Not allowed: only its owner or an admin may change the sensors of session '{first.Id}'.", setSensors.Message, StringComparison.Ordinal);
        var rest = await bobStream.RestAsync();
        Assert.Equal([SessionEventKinds.SensorsChanged, SessionEventKinds.Ended], rest.Select(e => e.Kind));
        Assert.Null(await nodes.C.FindSessionAsync(first.Id));
        Assert.Null(await nodes.C.FindSessionAsync(second.Id));
        Assert.Equal(HubConnectionState.Connected, bobConnection.Hub.State);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task SensorsOutsideTheCallersPrefixesAreRefused(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var pat = new TestUser(UniqueName("pat"), [SensorHub.Server.Identity.Roles.Operator], ["plant-1/line-1/"]);
        await using var alice = await nodes.A.ConnectAsync(protocol, NewOperator("alice"));
        await using var patConnection = await nodes.B.ConnectAsync(protocol, pat);
        var shared = await alice.Hub.CreateSessionAsync([Temperature]);

        var create = await Assert.ThrowsAsync<HubException>(() => patConnection.Hub.CreateSessionAsync([Temperature, "plant-1/line-2/power"]));
        var annotate = await Assert.ThrowsAsync<HubException>(() => patConnection.Hub.AnnotateAsync(shared.Id, "look", "plant-1/line-2/power"));
        var mine = await patConnection.Hub.CreateSessionAsync([Temperature]);
        var setSensors = await Assert.ThrowsAsync<HubException>(() => patConnection.Hub.SetSessionSensorsAsync(mine.Id, ["plant-1/line-2/power"]));
        await patConnection.Hub.AnnotateAsync(shared.Id, "fine", Temperature);

        Assert.Contains("Not allowed: your token may not read sensor 'plant-1/line-2/power' (request.sensorIds[1]).", create.Message, StringComparison.Ordinal);
        Assert.Contains("Not allowed: your token may not read sensor 'plant-1/line-2/power' (input.sensorId).", annotate.Message, StringComparison.Ordinal);
        Assert.Contains("Not allowed: your token may not read sensor 'plant-1/line-2/power' (sensorIds[0]).", setSensors.Message, StringComparison.Ordinal);
        Assert.Equal([Temperature], (await nodes.C.FindSessionAsync(mine.Id))!.Info.SensorIds);
        await patConnection.Hub.EndSessionAsync(mine.Id);
        await alice.Hub.EndSessionAsync(shared.Id);
    }
}
