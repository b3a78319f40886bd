using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>Servers with tight session limits, set through configuration as an operator would, on every engine target.</summary>
public sealed class SessionLimitsFixture() : SessionEngines(new Dictionary<string, string?>
{
    ["SensorHub:Sessions:MaxOpenSessionsPerUser"] = "2",
    ["SensorHub:Sessions:MaxParticipantsPerSession"] = "2",
    ["SensorHub:Sessions:MaxSensorsPerSession"] = "3",
    ["SensorHub:Sessions:MaxAnnotationLength"] = "20",
    ["SensorHub:Sessions:AnnotationRateLimit"] = "3",
    ["SensorHub:Sessions:AnnotationRatePeriod"] = "01:00:00",
});

/// <summary>
/// Each configured limit is enforced with an error that says which, and a refused call changes nothing; on Redis
/// across nodes the limits are the cluster's (calls spread over A, B and C).
/// </summary>
public sealed class SessionLimitsTests(SessionLimitsFixture fixture) : IClassFixture<SessionLimitsFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task OpenSessionsPerUserAreLimitedAndEndedOnesDoNotCount(EngineTarget engine, Protocol protocol)
    {
        var nodes = await fixture.NodesAsync(engine);
        var aliceUser = NewOperator("alice");
        await using var alice = await nodes.A.ConnectAsync(protocol, aliceUser);
        await using var aliceOnB = await nodes.B.ConnectAsync(protocol, aliceUser);
        await using var aliceOnC = await nodes.C.ConnectAsync(protocol, aliceUser);
        await using var bob = await nodes.B.ConnectAsync(protocol, NewOperator("bob"));
        var first = await alice.Hub.CreateSessionAsync();
        var second = await aliceOnB.Hub.CreateSessionAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => aliceOnC.Hub.CreateSessionAsync());
        var bobs = await bob.Hub.CreateSessionAsync();
        await alice.Hub.EndSessionAsync(first.Id);
        var third = await alice.Hub.CreateSessionAsync();

        Assert.Equal(SensorHubErrors.TooManySessions, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("Too many open sessions: you already own 2, the most allowed.", refused.Message, StringComparison.Ordinal);
        foreach (var session in new[] { second, third })
            await alice.Hub.EndSessionAsync(session.Id);
        await bob.Hub.EndSessionAsync(bobs.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ParticipantsPerSessionAreLimitedButAParticipantsSecondConnectionIsNot(EngineTarget engine, Protocol protocol)
    {
        var nodes = await fixture.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        await using var bobSecondTab = await nodes.C.ConnectAsync(protocol, bob);
        await using var carolConnection = await nodes.C.ConnectAsync(protocol, NewViewer("carol"));
        var session = await aliceConnection.Hub.CreateSessionAsync();
        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);

        await using var carolStream = carolConnection.Hub.JoinSession(session.Id);
        var full = await Assert.ThrowsAsync<HubException>(() => carolStream.Completion);
        await using var bobStream2 = bobSecondTab.Hub.JoinSession(session.Id);
        var snapshot = await bobStream2.SnapshotAsync();

        Assert.Equal(SensorHubErrors.SessionFull, SensorHubErrors.CodeOf(full.Message));
        Assert.Contains($"Session '{session.Id}' is full: it already has 2 participants, the most allowed.", full.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2], snapshot.Participants!.Select(p => p.Connections).Order());
        Assert.Equal(HubConnectionState.Connected, carolConnection.Hub.State);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task AnnotationsAreLimitedInRateAndLength(EngineTarget engine, Protocol protocol)
    {
        var nodes = await fixture.NodesAsync(engine);
        var aliceUser = NewOperator("alice");
        await using var aliceOnA = await nodes.A.ConnectAsync(protocol, aliceUser);
        await using var alice = await nodes.C.ConnectAsync(protocol, aliceUser);
        await using var aliceOnB = await nodes.B.ConnectAsync(protocol, aliceUser);
        await using var bob = await nodes.C.ConnectAsync(protocol, NewOperator("bob"));
        var session = await aliceOnA.Hub.CreateSessionAsync();
        await using var watcher = aliceOnB.Hub.JoinSession(session.Id);
        await watcher.SnapshotAsync();

        var tooLong = await Assert.ThrowsAsync<HubException>(() => alice.Hub.AnnotateAsync(session.Id, new string('a', 21)));
        // The rate is the author's in the session, whichever node each annotation comes through.
        for (var i = 0; i < 3; i++)
            await (i == 1 ? aliceOnA : alice).Hub.AnnotateAsync(session.Id, $"note {i}");
        var tooMany = await Assert.ThrowsAsync<HubException>(() => aliceOnB.Hub.AnnotateAsync(session.Id, "one too many"));
        await bob.Hub.AnnotateAsync(session.Id, "bob's own allowance");

        Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(tooLong.Message));
        Assert.Contains("input.text is 21 characters long; at most 20 are allowed.", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal(SensorHubErrors.RateLimited, SensorHubErrors.CodeOf(tooMany.Message));
        Assert.Contains("Too many annotations: at most 3 per 3600 s are allowed in one session;", tooMany.Message, StringComparison.Ordinal);
        // One more annotation is allowed every 1,200 s: the wait says so (a little less, time having passed).
        Assert.InRange(SensorHubErrors.RetryAfterOf(tooMany.Message) ?? TimeSpan.Zero, TimeSpan.FromSeconds(1100), TimeSpan.FromSeconds(1200));
        var texts = new List<string>();
        for (var i = 0; i < 4; i++)
            texts.Add((await watcher.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        Assert.Equal(["note 0", "note 1", "note 2", "bob's own allowance"], texts);
        await alice.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task SensorsPerSessionAreLimited(EngineTarget engine, Protocol protocol)
    {
        var nodes = await fixture.NodesAsync(engine);
        await using var alice = await nodes.A.ConnectAsync(protocol, NewOperator("alice"));
        var session = await alice.Hub.CreateSessionAsync(["a/1", "a/2", "a/3"]);

        var create = await Assert.ThrowsAsync<HubException>(() => alice.Hub.CreateSessionAsync(["a/1", "a/2", "a/3", "a/4"]));
        var set = await Assert.ThrowsAsync<HubException>(() => alice.Hub.SetSessionSensorsAsync(session.Id, ["a/1", "a/2", "a/3", "a/4"]));

        Assert.Contains("request.sensorIds holds 4 sensors; at most 3 are allowed.", create.Message, StringComparison.Ordinal);
        Assert.Contains("sensorIds holds 4 sensors; at most 3 are allowed.", set.Message, StringComparison.Ordinal);
        Assert.Equal(["a/1", "a/2", "a/3"], (await nodes.B.FindSessionAsync(session.Id))!.Info.SensorIds);
        await alice.Hub.EndSessionAsync(session.Id);
    }
}
