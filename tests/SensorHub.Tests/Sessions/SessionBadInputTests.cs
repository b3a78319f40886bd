using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Each bad argument of the session methods gets a HubException that names it; the connection goes on working and
/// the session is as it was: its next event is the next good one, and a fresh joiner's snapshot has not changed.
/// </summary>
public sealed class SessionBadInputTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    private static readonly string s_unknownId = Guid.NewGuid().ToString("N");

    /// <summary>A bad call made by the owner of an open session (its id is the second argument), and what its error says.</summary>
    private static readonly Dictionary<string, (Func<HubConnection, string, Task> Call, Func<string, string> Message)> s_cases = new()
    {
        ["CreateSession without a request"] = (
            (hub, _) => hub.CreateSessionAsync(request: null),
            _ => "request is required."),
        ["CreateSession without a title"] = (
            (hub, _) => hub.CreateSessionAsync(new CreateSessionRequest { Title = null!, SensorIds = [Temperature] }),
            _ => "request.title is required."),
        ["CreateSession with an empty title"] = (
            (hub, _) => hub.CreateSessionAsync(title: ""),
            _ => "request.title is empty."),
        ["CreateSession with a blank title"] = (
            (hub, _) => hub.CreateSessionAsync(title: " \t\n "),
            _ => "request.title is empty."),
        ["CreateSession with a title of 201 characters"] = (
            (hub, _) => hub.CreateSessionAsync(title: new string('t', 201)),
            _ => "request.title is 201 characters long; at most 200 are allowed."),
        ["CreateSession without sensorIds"] = (
            (hub, _) => hub.CreateSessionAsync(new CreateSessionRequest { Title = "t", SensorIds = null! }),
            _ => "request.sensorIds is required."),
        ["CreateSession with 51 sensors"] = (
            (hub, _) => hub.CreateSessionAsync(Enumerable.Range(0, 51).Select(i => $"s/{i}").ToArray()),
            _ => "request.sensorIds holds 51 sensors; at most 50 are allowed."),
        ["CreateSession with a malformed sensor id"] = (
            (hub, _) => hub.CreateSessionAsync([Temperature, "plant 1"]),
            _ => "request.sensorIds[1] contains U+0020; only ASCII letters, digits and . _ - / are allowed."),
        ["CreateSession inviting an empty name"] = (
            (hub, _) => hub.CreateSessionAsync(isPrivate: true, invited: ["bob", ""]),
            _ => "request.invited[1] is empty."),
        ["JoinSession without an id"] = (
            (hub, _) => JoinAsync(hub, null),
            _ => "sessionId is required."),
        ["JoinSession with an empty id"] = (
            (hub, _) => JoinAsync(hub, ""),
            _ => "sessionId is empty."),
        ["JoinSession with a malformed id"] = (
            (hub, _) => JoinAsync(hub, "../../etc/passwd"),
            _ => "sessionId is malformed: a session id is 32 lowercase hexadecimal digits."),
        ["JoinSession with an id in capitals"] = (
            (hub, id) => JoinAsync(hub, id.ToUpperInvariant()),
            _ => "sessionId is malformed: a session id is 32 lowercase hexadecimal digits."),
        ["JoinSession with an unknown id"] = (
            (hub, _) => JoinAsync(hub, s_unknownId),
            _ => $"sessionId: no session '{s_unknownId}' is known."),
        ["Annotate without an input"] = (
            (hub, id) => hub.AnnotateAsync(id, input: null),
            _ => "input is required."),
        ["Annotate without a text"] = (
            (hub, id) => hub.AnnotateAsync(id, new AnnotationInput { Text = null! }),
            _ => "input.text is required."),
        ["Annotate with a blank text"] = (
            (hub, id) => hub.AnnotateAsync(id, "   "),
            _ => "input.text is empty."),
        ["Annotate with 501 characters"] = (
            (hub, id) => hub.AnnotateAsync(id, new string('a', 501)),
            _ => "input.text is 501 characters long; at most 500 are allowed."),
        ["Annotate with a malformed sensor id"] = (
            (hub, id) => hub.AnnotateAsync(id, "here", "plant*1"),
            _ => "input.sensorId contains '*'; only ASCII letters, digits and . _ - / are allowed."),
        ["Annotate a sensor that is not the session's"] = (
            (hub, id) => hub.AnnotateAsync(id, "here", Humidity),
            id => $"input.sensorId: sensor '{Humidity}' is not one of the sensors of session '{id}'."),
        ["Annotate with a negative sequence"] = (
            (hub, id) => hub.AnnotateAsync(id, "here", Temperature, -1),
            _ => "input.sequence must be 0 or more; it was -1."),
        ["Annotate with a sequence but no sensor"] = (
            (hub, id) => hub.AnnotateAsync(id, "here", null, 5),
            _ => "input.sequence needs input.sensorId: a sequence points at one sensor's reading."),
        ["Annotate with a malformed session id"] = (
            (hub, _) => hub.AnnotateAsync("nope", "here"),
            _ => "sessionId is malformed: a session id is 32 lowercase hexadecimal digits."),
        ["Annotate an unknown session"] = (
            (hub, _) => hub.AnnotateAsync(s_unknownId, "here"),
            _ => $"sessionId: no session '{s_unknownId}' is known."),
        ["SetSessionSensors without sensorIds"] = (
            (hub, id) => hub.SetSessionSensorsAsync(id, null),
            _ => "sensorIds is required."),
        ["SetSessionSensors with 51 sensors"] = (
            (hub, id) => hub.SetSessionSensorsAsync(id, Enumerable.Range(0, 51).Select(i => $"s/{i}").ToArray()),
            _ => "sensorIds holds 51 sensors; at most 50 are allowed."),
        ["SetSessionSensors with an empty sensor id"] = (
            (hub, id) => hub.SetSessionSensorsAsync(id, [Temperature, ""]),
            _ => "sensorIds[1] is empty."),
        ["SetSessionSensors on an unknown session"] = (
            (hub, _) => hub.SetSessionSensorsAsync(s_unknownId, [Temperature]),
            _ => $"sessionId: no session '{s_unknownId}' is known."),
        ["EndSession with a malformed id"] = (
            (hub, _) => hub.EndSessionAsync(new string('f', 33)),
            _ => "sessionId is malformed: a session id is 32 lowercase hexadecimal digits."),
        ["EndSession of an unknown session"] = (
            (hub, _) => hub.EndSessionAsync(s_unknownId),
            _ => $"sessionId: no session '{s_unknownId}' is known."),
    };

    public static TheoryData<Protocol, string> Cases
    {
        get
        {
            var data = new TheoryData<Protocol, string>();
            foreach (var protocol in Enum.GetValues<Protocol>())
            {
                foreach (var name in s_cases.Keys)
                    data.Add(protocol, name);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadInputIsRefusedByNameAndChangesNothing(Protocol protocol, string name)
    {
        var app = apps[Transport.TestServer];
        var (call, message) = s_cases[name];
        var owner = NewOperator("owner");
        await using var connection = await app.ConnectAsync(protocol, owner);
        var session = await connection.Hub.CreateSessionAsync([Temperature]);
        await using var watcher = connection.Hub.JoinSession(session.Id);
        await watcher.SnapshotAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => call(connection.Hub, session.Id));

        Assert.EndsWith(message(session.Id), error.Message, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        AssertSame(session, (await connection.Hub.ListSessionsAsync()).Single(s => s.Owner == owner.Name));
        await connection.Hub.AnnotateAsync(session.Id, "still fine");
        Assert.Equal("still fine", (await watcher.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        await using var fresh = connection.Hub.JoinSession(session.Id);
        var snapshot = await fresh.SnapshotAsync();
        AssertSame(session, snapshot.Session);
        Assert.Equal(["still fine"], snapshot.Annotations!.Select(a => a.Text));
        Assert.Equal([new Participant { Id = owner.Name, Name = owner.Name, Connections = 2 }], snapshot.Participants!);
        await connection.Hub.EndSessionAsync(session.Id);
    }

    private static async Task JoinAsync(HubConnection hub, string? sessionId)
    {
        await using var stream = SessionStream.Join(hub, sessionId!);
        await stream.Completion;
    }
}
