using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Hubs;
using SensorHub.Server.Stats;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The per-connection limits of <c>ConnectionLimitsFilter</c>: streams of both directions share the stream cap, calls
/// that create things spend a budget of their connection, a call refused for its role takes nothing, and every
/// refusal is counted in <c>/api/stats</c> and on the meter.
/// </summary>
public sealed class ConnectionLimitsTests
{
    public static TheoryData<Protocol> Protocols => HubTargets.Protocols;

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PublishAndUploadStreamsCountAgainstTheStreamCapUntilTheyEnd(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:MaxStreamsPerConnection"] = "2",
        });
        var sensorId = Sensors.NewId("cap");
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // One Publish and one Upload stream, each open until the test completes its channel.
        var readings = Channel.CreateUnbounded<ReadingInput>();
        var publishing = connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, readings.Reader, cts.Token);
        await readings.Writer.WriteAsync(new ReadingInput { SensorId = sensorId, Value = 2 }, cts.Token);
        await Timeouts.WaitUntilAsync(async () => (await app.Engine.FindSensorAsync(sensorId, CancellationToken.None))!.LastValue == 2,
            Timeouts.Default, "the Publish stream is running");
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "held.bin", ContentType = "application/octet-stream" });
        var chunks = Channel.CreateUnbounded<byte[]>();
        var uploading = connection.Hub.InvokeAsync<UploadResult>(SensorHubMethods.Upload, begun.UploadId, 0L, chunks.Reader, cts.Token);
        await chunks.Writer.WriteAsync([1, 2, 3], cts.Token);
        await Timeouts.WaitUntilAsync(async () => (await connection.Hub.GetUploadStatusAsync(begun.UploadId)).ReceivedBytes == 3,
            Timeouts.Default, "the Upload stream is running");

        var subscribe = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(subscribe.Message));
        var publish = await Assert.ThrowsAsync<HubException>(() =>
            connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Readings(sensorId, 3), cts.Token));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(publish.Message));

        // Once the Publish stream ends its slot is free again.
        readings.Writer.Complete();
        Assert.Equal(1, (await publishing.WaitAsync(Timeouts.Default)).Accepted);
        var fromNow = new SubscribeOptions { FromSequence = 0 };
        Assert.Equal(2, (await connection.Hub.ReadReadingsAsync(sensorId, fromNow, 2, cts.Token)).Count);

        chunks.Writer.Complete();
        Assert.Equal(3, (await uploading.WaitAsync(Timeouts.Default)).Bytes);
        Assert.Equal(1, (await connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Readings(sensorId, 4), cts.Token)).Accepted);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CallsThatCreateThingsSpendTheirConnectionsBudgetAndSayHowLongToWait(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:CreationRateLimit"] = "3",
            ["SensorHub:Hub:CreationRatePeriod"] = "01:00:00",
        });
        var sensorId = Sensors.NewId("budget");
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol, TestUser.Operator());

        // BeginUpload, CreateSession and Annotate all spend the same budget of 3.
        await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "a.bin", ContentType = "application/octet-stream" });
        var session = await connection.Hub.InvokeAsync<SessionInfo>(
            SensorHubMethods.CreateSession, new CreateSessionRequest { Title = "budget", SensorIds = [sensorId] });
        await connection.Hub.InvokeAsync(SensorHubMethods.Annotate, session.Id, new AnnotationInput { Text = "one" });

        var refused = await Assert.ThrowsAsync<HubException>(() =>
            connection.Hub.BeginUploadAsync(new UploadRequest { Name = "b.bin", ContentType = "application/octet-stream" }));
        Assert.Equal(SensorHubErrors.RateLimited, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("BeginUpload", refused.Message, StringComparison.Ordinal);
        var wait = SensorHubErrors.RetryAfterOf(refused.Message);
        Assert.NotNull(wait);
        Assert.InRange(wait.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));

        // Calls that create nothing go on, and so does another connection of the same user.
        Assert.Contains(sensorId, (await connection.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, null)).Sensors.Select(s => s.Id));
        await using var other = await app.ConnectAsync(protocol, TestUser.Operator());
        await other.Hub.BeginUploadAsync(new UploadRequest { Name = "c.bin", ContentType = "application/octet-stream" });

        var stats = await app.GetStatsAsync();
        Assert.Equal(1, stats.Refusals[SensorHubErrors.RateLimited]);
    }

    [Fact]
    public async Task TheTimeToWaitIsTheTimeToTheNextPermitNotAWholePeriod()
    {
        // 3 per 3 s: a permit comes back every second.
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:CreationRateLimit"] = "3",
            ["SensorHub:Hub:CreationRatePeriod"] = "00:00:03",
        });
        await using var connection = await app.ConnectAsync(Protocol.Json, TestUser.Operator());
        var request = new UploadRequest { Name = "w.bin", ContentType = "application/octet-stream" };
        HubException? refused = null;
        for (var i = 0; i < 4 && refused is null; i++)
            refused = await Record.ExceptionAsync(() => connection.Hub.BeginUploadAsync(request)) as HubException;

        Assert.NotNull(refused);
        var wait = SensorHubErrors.RetryAfterOf(refused.Message);
        Assert.InRange(wait ?? TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        // After that wait (and the limiter's 100 ms refill tick) the call goes through.
        await Task.Delay(wait!.Value + TimeSpan.FromMilliseconds(300));
        await connection.Hub.BeginUploadAsync(request);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ACallRefusedForItsRoleTakesNeitherAStreamSlotNorACreation(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:MaxStreamsPerConnection"] = "1",
            ["SensorHub:Hub:CreationRateLimit"] = "1",
            ["SensorHub:Hub:CreationRatePeriod"] = "01:00:00",
        });
        var sensorId = Sensors.NewId("role");
        await app.Engine.PublishAsync(sensorId, 1);
        await using var viewer = await app.ConnectAsync(protocol, TestUser.Viewer());

        for (var i = 0; i < 3; i++)
        {
            var publish = await Assert.ThrowsAsync<HubException>(() =>
                viewer.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Readings(sensorId, i)));
            Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(publish.Message));
            var create = await Assert.ThrowsAsync<HubException>(() =>
                viewer.Hub.BeginUploadAsync(new UploadRequest { Name = "x.bin", ContentType = "application/octet-stream" }));
            Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(create.Message));
        }

        using var cts = new CancellationTokenSource(Timeouts.Default);
        Assert.Single(await viewer.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 1, cts.Token));
        var stats = await app.GetStatsAsync();
        Assert.Equal(6, stats.Refusals[SensorHubErrors.NotAllowed]);
        Assert.Equal(0, stats.Refusals[SensorHubErrors.RateLimited]);
        Assert.Equal(0, stats.Refusals[SensorHubErrors.TooManyStreams]);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ReadingsAndNewSensorsOverTheConnectionsBudgetsAreRejectedAloneWithTheTimeToWait(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:PublishRateLimit"] = "6",
            ["SensorHub:Hub:PublishRatePeriod"] = "01:00:00",
            ["SensorHub:Hub:NewSensorRateLimit"] = "2",
            ["SensorHub:Hub:NewSensorRatePeriod"] = "01:00:00",
        });
        var known = Sensors.NewId("known");
        await app.Engine.PublishAsync(known, 1);
        var fresh = Enumerable.Range(0, 3).Select(i => Sensors.NewId($"new{i}")).ToArray();
        await using var device = await app.ConnectAsync(protocol, TestUser.Device());

        // 8 items: 3 for new sensors (the third over the budget of 2), 5 for a known one (the last 2 over the budget of 6).
        var items = fresh.Select(id => new ReadingInput { SensorId = id, Value = 1 })
            .Concat(Enumerable.Range(0, 5).Select(i => new ReadingInput { SensorId = known, Value = i }))
            .ToArray();
        var result = await device.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Stream(items)).WaitAsync(Timeouts.Default);

        Assert.Equal(5, result.Accepted);
        Assert.Equal([2, 6, 7], result.Rejections.Select(r => r.Index));
        Assert.All(result.Rejections, r => Assert.Equal(SensorHubErrors.RateLimited, r.Code));
        Assert.All(result.Rejections, r => Assert.InRange(SensorHubErrors.RetryAfterOf(r.Reason) ?? TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)));
        Assert.Null(await app.Engine.FindSensorAsync(fresh[2], CancellationToken.None));
        Assert.Equal(3, (await app.GetStatsAsync()).Refusals[SensorHubErrors.RateLimited]);

        // The budgets are the connection's: another one of the same device publishes at once.
        await using var other = await app.ConnectAsync(protocol, TestUser.Device());
        Assert.Equal(1, (await other.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Readings(fresh[2], 1)).WaitAsync(Timeouts.Default)).Accepted);
    }

    [Fact]
    public async Task EveryRefusalIsCountedOnTheMeterWithItsCode()
    {
        await using var app = new SensorHubApplication();
        using var recorder = new RefusalRecorder(app);
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(Sensors.NewId("nobody"), null, 1, cts.Token));
        await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync("bad id", null, 1, cts.Token));

        await Timeouts.WaitUntilAsync(() => recorder.Codes.Count == 2, Timeouts.Default, "two refusals on the meter");
        Assert.Equal([SensorHubErrors.InvalidArgument, SensorHubErrors.UnknownSensor], recorder.Codes.Order(StringComparer.Ordinal));
        var stats = await app.GetStatsAsync();
        Assert.Equal(SensorHubErrors.All.Order(StringComparer.Ordinal), stats.Refusals.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, stats.Refusals[SensorHubErrors.UnknownSensor]);
        Assert.Equal(1, stats.Refusals[SensorHubErrors.InvalidArgument]);
    }

    private static async IAsyncEnumerable<ReadingInput> Stream(ReadingInput[] items)
    {
        foreach (var item in items)
        {
            yield return item;
            await Task.Yield();
        }
    }

    private static async IAsyncEnumerable<ReadingInput> Readings(string sensorId, double value)
    {
        yield return new ReadingInput { SensorId = sensorId, Value = value };
        await Task.Yield();
    }

    /// <summary>Listens to one application's refusal counter only: other tests' servers run in parallel under the same meter name.</summary>
    private sealed class RefusalRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<string> _codes = new();

        public RefusalRecorder(SensorHubApplication app)
        {
            var factory = app.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == Refusals.Instrument && ReferenceEquals(instrument.Meter.Scope, factory))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "error.type")
                        _codes.Enqueue((string)tag.Value!);
                }
            });
            _listener.Start();
        }

        public List<string> Codes => [.. _codes];

        public void Dispose() => _listener.Dispose();
    }
}
