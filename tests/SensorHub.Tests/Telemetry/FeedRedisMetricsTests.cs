using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Redis.Feeds.Internal;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Redis.Feeds;
using static SensorHub.Tests.Telemetry.FeedMetricsTests;

namespace SensorHub.Tests.Telemetry;

/// <summary>The feeds' instruments with the Redis engine: each node counts its own, and measures pub/sub's lag.</summary>
public sealed class FeedRedisMetricsTests
{
    [Fact]
    public async Task EachNodeCountsWhatItPublishedAndDeliveredAndTheSubscribingNodeMeasuresThePubSubLag()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis);
        var publisher = await nodes.StartNodeAsync();
        var subscriber = await nodes.StartNodeAsync();
        using var published = Collect<long>(publisher.Services.GetRequiredService<IMeterFactory>(), FeedMetrics.PublishedInstrument);
        using var delivered = Collect<long>(subscriber.Services.GetRequiredService<IMeterFactory>(), FeedMetrics.DeliveredInstrument);
        using var lag = Collect<double>(subscriber.Services.GetRequiredService<IMeterFactory>(), RedisFeedRouter.LagInstrument);
        var sensorId = Sensors.NewId();
        await publisher.Engine.RegisterAsync(new SensorDescriptor(sensorId, "barometer", "pressure", "hPa"), CancellationToken.None);
        await using var connection = await subscriber.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var reading = connection.Hub.ReadReadingsAsync(sensorId, null, 3, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(subscriber, sensorId);
        await publisher.Engine.PublishAsync(sensorId, 3);
        Assert.Equal(3, (await reading).Count);

        Assert.Equal(3, Observed(published, "pressure"));
        Assert.Equal(3, Observed(delivered, "pressure"));
        Assert.Equal("s", lag.Instrument!.Unit);
        // One sample per channel message; every reading was published on its own.
        Assert.Equal(3, lag.GetMeasurementSnapshot().Count);
        Assert.All(lag.GetMeasurementSnapshot(), sample => Assert.InRange(sample.Value, 0, Timeouts.Default.TotalSeconds));
        // The publishing node delivered none: its subscribers are the ones it counts.
        using var deliveredByPublisher = Collect<long>(publisher.Services.GetRequiredService<IMeterFactory>(), FeedMetrics.DeliveredInstrument);
        Assert.Equal(0, Observed(deliveredByPublisher, "pressure"));
    }

    [Fact]
    public async Task StreamsEndedBecauseRedisIsGoneAreCountedAsInterruptedByMethod()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:00:00.500" });
        var node = await nodes.StartNodeAsync();
        using var interrupted = Collect<long>(node.Services.GetRequiredService<IMeterFactory>(), FeedMetrics.InterruptedInstrument);
        var sensorId = Sensors.NewId();
        await node.Engine.PublishAsync(sensorId, 1);
        await using var connection = await node.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var readings = connection.Hub.ReadReadingsAsync(sensorId, null, int.MaxValue, cts.Token);
        var batches = connection.Hub.ReadBatchesAsync(sensorId, null, int.MaxValue, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(node, sensorId, 2);

        redis.Stop();

        Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf((await Assert.ThrowsAsync<HubException>(() => readings)).Message));
        Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf((await Assert.ThrowsAsync<HubException>(() => batches)).Message));
        Assert.Equal("{stream}", interrupted.Instrument!.Unit);
        Assert.Equal([1L], Values(interrupted, SensorHubTelemetry.RpcMethod, SensorHubMethods.Subscribe));
        Assert.Equal([1L], Values(interrupted, SensorHubTelemetry.RpcMethod, SensorHubMethods.SubscribeBatches));
    }
}
