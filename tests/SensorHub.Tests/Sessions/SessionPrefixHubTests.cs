using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Over the hub: a token's <c>sensors</c> prefixes bound the sessions it sees. A session on a sensor outside them
/// answers exactly as one that was never made, annotations outside them do not reach it, and a change of sensors it may
/// not read ends its stream as if the session were unknown. On every engine, across nodes.
/// </summary>
public sealed class SessionPrefixHubTests(EngineFixture engines) : IClassFixture<EngineFixture>
{
    private const string Power = "plant-1/line-2/power";

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ASessionOnSensorsOutsideTheCallersPrefixesAnswersAsOneNeverMadeInEveryCall(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var bounded = new TestUser(UniqueName("olga"), [Roles.Operator], ["other/"]);
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, NewOperator("alice"));
        await using var boundedConnection = await nodes.B.ConnectAsync(protocol, bounded);
        var secret = await aliceConnection.Hub.CreateSessionAsync(["secret/line-1/temperature"]);
        var mixed = await aliceConnection.Hub.CreateSessionAsync(["other/line-1/temperature", "secret/line-1/temperature"]);
        var inside = await aliceConnection.Hub.CreateSessionAsync(["other/line-1/temperature"]);
        var neverMade = Guid.NewGuid().ToString("N");
        var hub = boundedConnection.Hub;
        var expected = await RefusalsAsync(hub, neverMade);

        foreach (var session in new[] { secret, mixed })
        {
            var refusals = await RefusalsAsync(hub, session.Id);

            Assert.Equal(expected, refusals.Select(message => message.Replace(session.Id, neverMade, StringComparison.Ordinal)));
            Assert.All(refusals, message => Assert.Equal(SensorHubErrors.UnknownSession, SensorHubErrors.CodeOf(message)));
            Assert.Empty(await nodes.C.ParticipantsAsync(session.Id));
            Assert.Equal(session.SensorIds, (await nodes.C.FindSessionAsync(session.Id))!.Info.SensorIds);
        }
        var listed = await hub.ListSessionsAsync();
        await using var insideStream = hub.JoinSession(inside.Id);
        var snapshot = await insideStream.SnapshotAsync();

        Assert.Contains(listed, s => s.Id == inside.Id);
        Assert.DoesNotContain(listed, s => s.Id == secret.Id || s.Id == mixed.Id);
        AssertSame(inside, snapshot.Session);
        Assert.Equal(HubConnectionState.Connected, hub.State);
        foreach (var session in new[] { secret, mixed, inside })
            await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ChangingSensorsEndsTheStreamOfAMemberWhoMayNotReadThemAsIfTheSessionWereUnknown(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        var pat = new TestUser(UniqueName("pat"), [Roles.Viewer], ["plant-1/line-1/"]);
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        await using var patConnection = await nodes.C.ConnectAsync(protocol, pat);
        var session = await aliceConnection.Hub.CreateSessionAsync([Temperature]);
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await using var patStream = patConnection.Hub.JoinSession(session.Id);
        await patStream.SnapshotAsync();
        await bobStream.ExpectAsync(SessionEventKinds.Joined);
        var neverMade = Guid.NewGuid().ToString("N");
        await using var unknownStream = patConnection.Hub.JoinSession(neverMade);
        var unknown = (await Assert.ThrowsAsync<HubException>(() => unknownStream.Completion)).Message;

        await aliceConnection.Hub.SetSessionSensorsAsync(session.Id, [Temperature, Power]);

        // Pat's next item is the error: the new sensor ids never reached it.
        var ended = await Assert.ThrowsAsync<HubException>(() => patStream.NextAsync());
        Assert.Equal(unknown, ended.Message.Replace(session.Id, neverMade, StringComparison.Ordinal));
        Assert.Equal([Temperature, Power], (await bobStream.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Equal(new Participant { Id = pat.Name, Name = pat.Name, Connections = 0 }, (await bobStream.ExpectAsync(SessionEventKinds.Left)).Participant);
        Assert.DoesNotContain(await patConnection.Hub.ListSessionsAsync(), s => s.Id == session.Id);
        Assert.Equal(HubConnectionState.Connected, patConnection.Hub.State);
        bobStream.AssertNothingPending();
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ASnapshotCarriesNoAnnotationAboutASensorOutsideTheJoinersPrefixes(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var pat = new TestUser(UniqueName("pat"), [Roles.Viewer], ["plant-1/line-1/"]);
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, NewOperator("alice"));
        await using var patConnection = await nodes.B.ConnectAsync(protocol, pat);
        await using var bobConnection = await nodes.C.ConnectAsync(protocol, NewViewer("bob"));
        var session = await aliceConnection.Hub.CreateSessionAsync([Temperature, Power]);
        await aliceConnection.Hub.AnnotateAsync(session.Id, "power dips", Power, 3);
        await aliceConnection.Hub.AnnotateAsync(session.Id, "warm", Temperature);
        await aliceConnection.Hub.AnnotateAsync(session.Id, "shift change");
        await aliceConnection.Hub.SetSessionSensorsAsync(session.Id, [Temperature]);

        await using var patStream = patConnection.Hub.JoinSession(session.Id);
        var patSnapshot = await patStream.SnapshotAsync();
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        var bobSnapshot = await bobStream.SnapshotAsync();

        Assert.Equal(["warm", "shift change"], patSnapshot.Annotations!.Select(a => a.Text));
        Assert.Equal(["power dips", "warm", "shift change"], bobSnapshot.Annotations!.Select(a => a.Text));
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    /// <summary>What JoinSession, Annotate, SetSessionSensors and EndSession answer for <paramref name="sessionId"/>, in that order.</summary>
    private static async Task<string[]> RefusalsAsync(HubConnection hub, string sessionId)
    {
        await using var join = hub.JoinSession(sessionId);
        return
        [
            (await Assert.ThrowsAsync<HubException>(() => join.Completion)).Message,
            (await Assert.ThrowsAsync<HubException>(() => hub.AnnotateAsync(sessionId, "psst"))).Message,
            (await Assert.ThrowsAsync<HubException>(() => hub.SetSessionSensorsAsync(sessionId, ["other/line-9/x"]))).Message,
            (await Assert.ThrowsAsync<HubException>(() => hub.EndSessionAsync(sessionId))).Message,
        ];
    }
}
