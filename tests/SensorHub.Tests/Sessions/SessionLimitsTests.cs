using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>A server with tight session limits, set through configuration as an operator would.</summary>
public sealed class SessionLimitsFixture : IAsyncLifetime
{
    public SensorHubApplication App { get; } = new(settings: new Dictionary<string, string?>
    {
        ["SensorHub:Sessions:MaxOpenSessionsPerUser"] = "2",
        ["SensorHub:Sessions:MaxParticipantsPerSession"] = "2",
        ["SensorHub:Sessions:MaxSensorsPerSession"] = "3",
        ["SensorHub:Sessions:MaxAnnotationLength"] = "20",
        ["SensorHub:Sessions:AnnotationRateLimit"] = "3",
        ["SensorHub:Sessions:AnnotationRatePeriod"] = "01:00:00",
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>Each configured limit is enforced with an error that says which, and a refused call changes nothing.</summary>
public sealed class SessionLimitsTests(SessionLimitsFixture fixture) : IClassFixture<SessionLimitsFixture>
{
    private SensorHubApplication App => fixture.App;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task OpenSessionsPerUserAreLimitedAndEndedOnesDoNotCount(Protocol protocol)
    {
        await using var alice = await App.ConnectAsync(protocol, NewOperator("alice"));
        await using var bob = await App.ConnectAsync(protocol, NewOperator("bob"));
        var first = await alice.Hub.CreateSessionAsync();
        var second = await alice.Hub.CreateSessionAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => alice.Hub.CreateSessionAsync());
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
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ParticipantsPerSessionAreLimitedButAParticipantsSecondConnectionIsNot(Protocol protocol)
    {
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await App.ConnectAsync(protocol, alice);
        await using var bobConnection = await App.ConnectAsync(protocol, bob);
        await using var bobSecondTab = await App.ConnectAsync(protocol, bob);
        await using var carolConnection = await App.ConnectAsync(protocol, NewViewer("carol"));
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
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AnnotationsAreLimitedInRateAndLength(Protocol protocol)
    {
        await using var alice = await App.ConnectAsync(protocol, NewOperator("alice"));
        await using var bob = await App.ConnectAsync(protocol, NewOperator("bob"));
        var session = await alice.Hub.CreateSessionAsync();
        await using var watcher = alice.Hub.JoinSession(session.Id);
        await watcher.SnapshotAsync();

        var tooLong = await Assert.ThrowsAsync<HubException>(() => alice.Hub.AnnotateAsync(session.Id, new string('a', 21)));
        for (var i = 0; i < 3; i++)
            await alice.Hub.AnnotateAsync(session.Id, $"note {i}");
        var tooMany = await Assert.ThrowsAsync<HubException>(() => alice.Hub.AnnotateAsync(session.Id, "one too many"));
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
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SensorsPerSessionAreLimited(Protocol protocol)
    {
        await using var alice = await App.ConnectAsync(protocol, NewOperator("alice"));
        var session = await alice.Hub.CreateSessionAsync(["a/1", "a/2", "a/3"]);

        var create = await Assert.ThrowsAsync<HubException>(() => alice.Hub.CreateSessionAsync(["a/1", "a/2", "a/3", "a/4"]));
        var set = await Assert.ThrowsAsync<HubException>(() => alice.Hub.SetSessionSensorsAsync(session.Id, ["a/1", "a/2", "a/3", "a/4"]));

        Assert.Contains("request.sensorIds holds 4 sensors; at most 3 are allowed.", create.Message, StringComparison.Ordinal);
        Assert.Contains("sensorIds holds 4 sensors; at most 3 are allowed.", set.Message, StringComparison.Ordinal);
        Assert.Equal(["a/1", "a/2", "a/3"], App.SessionState(session.Id)!.Stored.Info.SensorIds);
        await alice.Hub.EndSessionAsync(session.Id);
    }
}
