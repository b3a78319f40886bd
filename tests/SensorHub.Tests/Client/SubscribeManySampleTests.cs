using System.Globalization;
using SensorHub.ClientSample;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>The sample's <c>subscribe-many</c> command: a malformed pattern stops it before it connects; a good one prints readings with their sensor.</summary>
public sealed class SubscribeManySampleTests(SubscribeManyFixture apps) : IClassFixture<SubscribeManyFixture>
{
    // Nothing listens on the discard port: a command that connected before it checked its arguments would exit 1, not 2.
    private const string NoServer = "http://127.0.0.1:9/";

    [Theory]
    [InlineData("a/#/b", "'#' before its last level")]
    [InlineData("plant/line+", "wildcard inside the level 'line+'")]
    [InlineData("/plant", "starts with '/'")]
    public async Task AMalformedPatternIsOneLineAndExitCode2(string pattern, string problem)
    {
        var (code, output, errors) = await RunAsync("subscribe-many", pattern, "--url", NoServer, "--token", "t");

        Assert.Equal(2, code);
        Assert.Equal("", output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("pattern", line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ItPrintsTheReadingsOfEveryMatchingSensorWithItsIdAndEndsTheServersStream()
    {
        var app = apps.Default;
        var root = Sensors.NewId("sample");
        var streams = app.Activity.ActiveStreams;
        var output = new StringWriter();
        var errors = new StringWriter();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var run = SampleApp.RunAsync(["subscribe-many", $"{root}/#", "--count", "4", "--url", app.BaseUri.ToString()], output, errors, cts.Token);

        // The stream starts live: publish until the command has what it waits for.
        var published = new List<SensorHub.Contracts.Reading>();
        while (!run.IsCompleted)
        {
            published.AddRange(await app.Engine.PublishAsync($"{root}/a", 1));
            published.AddRange(await app.Engine.PublishAsync($"{root}/b/c", 1));
            await Task.WhenAny(run, Task.Delay(20));
            Assert.True(published.Count < 1_000, "the command printed nothing: " + errors);
        }
        var code = await run;

        Assert.Equal(0, code);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        foreach (var line in lines)
        {
            var fields = line.Split("  ");
            Assert.Contains(published, r => r.SensorId == fields[0] && r.Sequence.ToString(CultureInfo.InvariantCulture) == fields[1]);
        }
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == streams, Timeouts.GeneratorEnd, "the stream ended");
    }

    private static async Task<(int Code, string Output, string Errors)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var code = await SampleApp.RunAsync(args, output, errors, cts.Token).WaitAsync(Timeouts.Default);
        return (code, output.ToString(), errors.ToString());
    }
}
