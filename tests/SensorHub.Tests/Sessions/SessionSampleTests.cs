using SensorHub.ClientSample;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>The sample's <c>session join</c> tells participants who share a name apart by their ids.</summary>
public sealed class SessionSampleTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [InlineData("json")]
    [InlineData("msgpack")]
    public async Task SessionJoinShowsTheIdOfAParticipantBesideANameItDoesNotMatch(string protocol)
    {
        var app = apps[Transport.Kestrel];
        var watcher = NewViewer("watcher");
        var (mine, theirs) = (UniqueName("sub-w1"), UniqueName("sub-w2"));
        await using var owner = await app.ConnectAsync(Protocol.Json, NewOperator("owner"));
        await using var namesake = await app.ConnectAsSubjectAsync(Protocol.Json, watcher, theirs);
        var session = await owner.Hub.CreateSessionAsync(title: "Night shift");
        var token = app.MintToken(
            [.. SensorHubApplication.ClaimsOf(watcher, withSubject: false), new(SensorHub.Server.Identity.SensorHubUser.SubjectClaim, mine)],
            TimeSpan.FromMinutes(10));
        using var stop = new CancellationTokenSource(Timeouts.Default);
        var output = new StringWriter();
        string Printed() => output.ToString();

        var join = SampleApp.RunAsync(
            ["session", "join", session.Id, "--url", app.BaseUri.ToString(), "--protocol", protocol, "--token", token], output, TextWriter.Null, stop.Token);
        await Timeouts.WaitUntilAsync(() => Printed().Contains("Night shift", StringComparison.Ordinal), Timeouts.Default, "the snapshot");
        await using var namesakeStream = namesake.Hub.JoinSession(session.Id);
        await namesakeStream.SnapshotAsync();
        await Timeouts.WaitUntilAsync(() => Printed().Contains(" joined", StringComparison.Ordinal), Timeouts.Default, "the namesake's arrival");
        await stop.CancelAsync();

        Assert.Equal(0, await join.WaitAsync(Timeouts.Default));
        Assert.Contains($"here: {watcher.Name} ({mine})", Printed(), StringComparison.Ordinal);
        Assert.Contains($"+ {watcher.Name} ({theirs}) joined", Printed(), StringComparison.Ordinal);
        await owner.Hub.EndSessionAsync(session.Id);
    }
}
