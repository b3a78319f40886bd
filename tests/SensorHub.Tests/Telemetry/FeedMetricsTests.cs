using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Stats;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// The feeds' instruments on the in-memory engine, each read from the app's own meter factory (other tests' servers
/// run in parallel under the same meter name) under a load the test makes.
/// </summary>
public sealed class FeedMetricsTests
{
    [Fact]
    public async Task ReadingsPublishedDeliveredAndReplayedAreCountedBySensorKind()
    {
        await using var app = new SensorHubApplication();
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        using var published = Collect<long>(factory, FeedMetrics.PublishedInstrument);
        using var delivered = Collect<long>(factory, FeedMetrics.DeliveredInstrument);
        using var replayed = Collect<long>(factory, FeedMetrics.ReplayedInstrument);
        var thermometer = Sensors.NewId();
        await app.Engine.RegisterAsync(new SensorDescriptor(thermometer, "thermometer", "temperature", "°C"), CancellationToken.None);
        await app.Engine.PublishAsync(thermometer, 5);
        var device = Sensors.NewId();
        await app.Engine.PublishAsync(device, 3);
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // Five from history, then one live.
        var reading = connection.Hub.ReadReadingsAsync(thermometer, new SubscribeOptions { FromSequence = 0 }, 6, cts.Token);
        await Timeouts.WaitUntilAsync(() => Sensors.SubscribersOf(app, thermometer) == 1, Timeouts.Default, "the stream attached");
        await app.Engine.PublishAsync(thermometer, 1);
        Assert.Equal(6, (await reading).Count);

        Assert.Equal("{reading}", published.Instrument!.Unit);
        Assert.Equal((6, 3), (Observed(published, "temperature"), Observed(published, "device")));
        Assert.Equal((6, 0), (Observed(delivered, "temperature"), Observed(delivered, "device")));
        Assert.Equal((5, 0), (Observed(replayed, "temperature"), Observed(replayed, "device")));
        Assert.Equal("{reading}", delivered.Instrument!.Unit);
        Assert.Equal("{reading}", replayed.Instrument!.Unit);
        // /api/stats reads the same totals.
        var stats = await app.GetStatsAsync();
        Assert.Equal((9, 6), (stats.ReadingsPublished, stats.ReadingsDelivered));
    }

    [Fact]
    public async Task ReadingsAFullBufferLostAndHistoryNoLongerHeldAreCountedAsDroppedByKind()
    {
        // A buffer of one reading and a history of two: of ten readings published while the stream does not read, the
        // buffer keeps the last, history the last two, and the eight before are lost.
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Feeds:SubscriberBufferCapacity"] = "1",
            ["SensorHub:Feeds:HistoryCapacity"] = "2",
        });
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        using var dropped = Collect<long>(factory, FeedMetrics.DroppedInstrument);
        using var delivered = Collect<long>(factory, FeedMetrics.DeliveredInstrument);
        using var replayed = Collect<long>(factory, FeedMetrics.ReplayedInstrument);
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var stream = app.Services.GetRequiredService<FeedStreams>().ReadingsAsync(sensorId, null, cts.Token).GetAsyncEnumerator(cts.Token);
        try
        {
            var first = stream.MoveNextAsync();
            await Timeouts.WaitUntilAsync(() => Sensors.SubscribersOf(app, sensorId) == 1, Timeouts.Default, "the stream attached");
            var published = await app.Engine.PublishAsync(sensorId, 1);
            Assert.True(await first.AsTask().WaitAsync(Timeouts.Default));
            Assert.Equal(published[0].Sequence, stream.Current.Sequence);

            var burst = await app.Engine.PublishAsync(sensorId, 10);
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default));
            Assert.Equal(burst[8].Sequence, stream.Current.Sequence);
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default));
            Assert.Equal(burst[9].Sequence, stream.Current.Sequence);
        }
        finally
        {
            await cts.CancelAsync();
            await stream.DisposeAsync();
        }

        Assert.Equal("{reading}", dropped.Instrument!.Unit);
        Assert.Equal(8, Observed(dropped, "device"));
        Assert.Equal(3, Observed(delivered, "device"));
        Assert.Equal(1, Observed(replayed, "device"));
        Assert.Equal(8, (await app.GetStatsAsync()).ReadingsDropped);
    }

    [Fact]
    public async Task RejectedReadingsAreCountedByErrorTypeAndLimitsOnlyForLimitCodes()
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?> { ["SensorHub:Hub:MaxStreamsPerConnection"] = "1" });
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        using var rejected = Collect<long>(factory, Refusals.RejectedInstrument);
        using var refusals = Collect<long>(factory, Refusals.Instrument);
        using var limits = Collect<long>(factory, Refusals.LimitsInstrument);
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // Two null items among good ones: rejected one by one, the stream goes on.
        var result = await connection.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish,
            new ReadingInput?[] { null, new() { SensorId = sensorId, Value = 1 }, null }.ToAsyncEnumerable(),
            cts.Token);
        Assert.Equal((1, 2), (result.Accepted, result.Rejected));
        // One stream is the most: the second is refused with a limit's code.
        using var first = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var open = connection.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, null, first.Token).GetAsyncEnumerator(first.Token);
        var waiting = open.MoveNextAsync();
        await Timeouts.WaitUntilAsync(() => Sensors.SubscribersOf(app, sensorId) == 1, Timeouts.Default, "the first stream attached");
        var refused = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(refused.Message));
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        await open.DisposeAsync();

        Assert.Equal("{reading}", rejected.Instrument!.Unit);
        Assert.Equal([1L, 1L], Values(rejected, SensorHubTelemetry.ErrorType, SensorHubErrors.InvalidArgument));
        Assert.Equal(2, Values(refusals, SensorHubTelemetry.ErrorType, SensorHubErrors.InvalidArgument).Sum());
        Assert.Equal([1L], Values(refusals, SensorHubTelemetry.ErrorType, SensorHubErrors.TooManyStreams));
        Assert.Equal("{refusal}", limits.Instrument!.Unit);
        Assert.Equal([1L], Values(limits, SensorHubTelemetry.ErrorType, SensorHubErrors.TooManyStreams));
        Assert.Empty(Values(limits, SensorHubTelemetry.ErrorType, SensorHubErrors.InvalidArgument));
    }

    internal static MetricCollector<T> Collect<T>(IMeterFactory factory, string instrument) where T : struct =>
        new(factory, SensorHubTelemetry.MeterName, instrument);

    /// <summary>An observable counter's value for one sensor kind, collected now.</summary>
    internal static long Observed(MetricCollector<long> collector, string kind)
    {
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot()
            .LastOrDefault(m => m.Tags.TryGetValue(SensorHubTelemetry.SensorKind, out var k) && (string?)k == kind)?.Value ?? -1;
    }

    /// <summary>The values recorded with one tag's value, in order.</summary>
    internal static List<T> Values<T>(MetricCollector<T> collector, string tag, string value) where T : struct =>
        collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue(tag, out var v) && (string?)v == value).Select(m => m.Value).ToList();
}
