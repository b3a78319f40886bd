using System.Security.Cryptography;
using SensorHub.ClientSample;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.ClientSample;

/// <summary>The sample's commands end to end against the real server on Kestrel, as a user would run them.</summary>
public sealed class SampleCommandTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sensorhub-sample-").FullName;

    public static TheoryData<string> Protocols => new() { "json", "msgpack" };

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SensorsListsEachSensorWithItsNewestValue(string protocol)
    {
        var app = apps[Transport.Kestrel];
        var sensorId = Sensors.NewId("sample");
        await app.Engine.PublishAsync(sensorId, 3, firstValue: 40);

        var (code, output, _) = await RunAsync(app, protocol, "sensors");

        Assert.Equal(0, code);
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith(sensorId, StringComparison.Ordinal));
        Assert.Contains("42", line, StringComparison.Ordinal);
        Assert.Contains("device", line, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SubscribePrintsReadingsAndEndsTheServersStreamWhenDone(string protocol)
    {
        var app = apps[Transport.Kestrel];
        var sensorId = Sensors.NewId("sample");
        var history = await app.Engine.PublishAsync(sensorId, 5, firstValue: 1);
        var streams = app.Activity.ActiveStreams;

        var (code, output, _) = await RunAsync(app, protocol, "subscribe", sensorId, "--from", "0", "--count", "3");

        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(history.Take(3).Select(r => r.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines.Select(l => l.Split("  ")[0]));
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == streams, Timeouts.GeneratorEnd, "the subscription's generator ended");
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PublishStreamsGeneratedReadings(string protocol)
    {
        var app = apps[Transport.Kestrel];
        var sensorId = Sensors.NewId("sample");

        var (code, output, _) = await RunAsync(app, protocol, "publish", sensorId, "--count", "5", "--rate", "200");

        Assert.Equal(0, code);
        Assert.Contains("5 accepted, 0 rejected", output, StringComparison.Ordinal);
        var published = await app.Services.GetRequiredService<IReadingHistory>().ReadAsync(sensorId, 0, 100, CancellationToken.None);
        Assert.Equal(5, published.Count);
        Assert.Equal(Math.Sin(4 / 200.0), published[^1].Value, 9);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task UploadShowsProgressAndDownloadWritesTheSameBytes(string protocol)
    {
        var app = apps[Transport.Kestrel];
        var data = UploadStreams.RandomBytes(300_000);
        var file = Path.Combine(_folder, "capture.bin");
        var copy = Path.Combine(_folder, "copy.bin");
        await File.WriteAllBytesAsync(file, data);

        var (code, output, _) = await RunAsync(app, protocol, "upload", file);
        var uploadId = output.Split("upload ")[1].Split(':')[0];
        var (downloaded, downloadOutput, _) = await RunAsync(app, protocol, "download", uploadId, copy);

        Assert.Equal(0, code);
        Assert.Contains("100%", output, StringComparison.Ordinal);
        Assert.Contains($"SHA-256 {Convert.ToHexStringLower(SHA256.HashData(data))}", output, StringComparison.Ordinal);
        Assert.Equal(0, downloaded);
        Assert.Contains($"{data.Length} bytes written", downloadOutput, StringComparison.Ordinal);
        Assert.Equal(data, await File.ReadAllBytesAsync(copy));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SessionJoinPrintsWhoIsThereAndTheAnnotations(string protocol)
    {
        var app = apps[Transport.Kestrel];
        await using var owner = await app.ConnectAsync(Protocol.Json, TestUser.Operator("owner-olga"));
        var session = await owner.Hub.InvokeAsync<SessionInfo>(
            SensorHubMethods.CreateSession, new CreateSessionRequest { Title = "Night shift", SensorIds = [] }).WaitAsync(Timeouts.Default);
        using var stop = new CancellationTokenSource(Timeouts.Default);
        var joinOutput = new StringWriter();

        var join = SampleApp.RunAsync(Args(app, protocol, "session", "join", session.Id, "--user", "watcher"), joinOutput, TextWriter.Null, stop.Token);
        await Timeouts.WaitUntilAsync(() => joinOutput.ToString().Contains("Night shift", StringComparison.Ordinal), Timeouts.Default, "the snapshot");
        var (annotated, _, _) = await RunAsync(app, protocol, "session", "annotate", session.Id, "pump 3 is noisy", "--user", "annotator");
        await Timeouts.WaitUntilAsync(() => joinOutput.ToString().Contains("pump 3 is noisy", StringComparison.Ordinal), Timeouts.Default, "the annotation");
        await stop.CancelAsync();

        Assert.Equal(0, annotated);
        Assert.Equal(0, await join.WaitAsync(Timeouts.Default));
        Assert.Contains("annotator: pump 3 is noisy", joinOutput.ToString(), StringComparison.Ordinal);
        Assert.Contains("watcher", joinOutput.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralServersAreTriedInTurnUntilOneAnswers()
    {
        var app = apps[Transport.Kestrel];
        var sensorId = Sensors.NewId("sample");
        await app.Engine.PublishAsync(sensorId, 1, firstValue: 7);
        var output = new StringWriter();
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // Nothing listens on port 9: the dev token and the connection both come from the second server.
        var code = await SampleApp.RunAsync(
            ["sensors", "--server", $"http://127.0.0.1:9/,{app.BaseUri}", "--protocol", "json"], output, TextWriter.Null, cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal(0, code);
        Assert.Contains(sensorId, output.ToString(), StringComparison.Ordinal);
    }

    private static string[] Args(SensorHubApplication app, string protocol, params string[] command) =>
        [.. command, "--url", app.BaseUri.ToString(), "--protocol", protocol];

    private static async Task<(int Code, string Output, string Errors)> RunAsync(SensorHubApplication app, string protocol, params string[] command)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var code = await SampleApp.RunAsync(Args(app, protocol, command), output, errors, cts.Token).WaitAsync(Timeouts.Default);
        return (code, output.ToString(), errors.ToString());
    }
}
