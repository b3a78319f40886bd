using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Hubs;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Telemetry.FeedMetricsTests;

namespace SensorHub.Tests.Telemetry;

/// <summary>The hub's connection and stream instruments: counts by protocol and method, lifetimes, clean-up times.</summary>
public sealed class FeedStreamMetricsTests
{
    [Fact]
    public async Task ConnectionsAreCountedByProtocolWhileOpen()
    {
        await using var app = new SensorHubApplication();
        using var connections = Collect<long>(app.Services.GetRequiredService<IMeterFactory>(), HubActivity.ConnectionsInstrument);

        await using (await app.ConnectAsync(Protocol.Json))
        await using (await app.ConnectAsync(Protocol.MessagePack))
        {
            await Timeouts.WaitUntilAsync(() => app.Activity.Connections == 2, Timeouts.Default, "both connections counted");
            Assert.Equal([1L], Values(connections, SensorHubTelemetry.HubProtocol, "json"));
            Assert.Equal([1L], Values(connections, SensorHubTelemetry.HubProtocol, "messagepack"));
        }

        await Timeouts.WaitUntilAsync(() => app.Activity.Connections == 0, Timeouts.Default, "both connections closed");
        Assert.Equal("{connection}", connections.Instrument!.Unit);
        Assert.Equal([1L, -1L], Values(connections, SensorHubTelemetry.HubProtocol, "json"));
        Assert.Equal([1L, -1L], Values(connections, SensorHubTelemetry.HubProtocol, "messagepack"));
    }

    [Fact]
    public async Task AStreamIsCountedByMethodWhileItRunsAndItsLifetimeAndCleanUpAreRecordedWhenCancelled()
    {
        await using var app = new SensorHubApplication();
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        using var active = Collect<long>(factory, HubActivity.ActiveStreamsInstrument);
        using var duration = Collect<double>(factory, HubActivity.StreamDurationInstrument);
        using var cleanup = Collect<double>(factory, HubActivity.StreamCleanupInstrument);
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // A batch stream that ends by itself (its sensor is unknown) is counted and timed, but not as cancelled.
        await Assert.ThrowsAnyAsync<Exception>(() => connection.Hub.ReadBatchesAsync(Sensors.NewId(), null, 1, cts.Token));
        // A reading stream the client cancels.
        var reading = connection.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token);
        await Timeouts.WaitUntilAsync(() => Sensors.SubscribersOf(app, sensorId) == 1, Timeouts.Default, "the stream attached");
        Assert.Equal([1L], Values(active, SensorHubTelemetry.RpcMethod, SensorHubMethods.Subscribe));
        await app.Engine.PublishAsync(sensorId, 1);
        Assert.Single(await reading);
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == 0, Timeouts.Default, "the stream ended");

        Assert.Equal("{stream}", active.Instrument!.Unit);
        Assert.Equal([1L, -1L], Values(active, SensorHubTelemetry.RpcMethod, SensorHubMethods.Subscribe));
        Assert.Equal([1L, -1L], Values(active, SensorHubTelemetry.RpcMethod, SensorHubMethods.SubscribeBatches));
        Assert.Equal("s", duration.Instrument!.Unit);
        Assert.Single(Values(duration, SensorHubTelemetry.RpcMethod, SensorHubMethods.Subscribe), seconds => seconds > 0);
        Assert.Single(Values(duration, SensorHubTelemetry.RpcMethod, SensorHubMethods.SubscribeBatches));
        Assert.Equal("s", cleanup.Instrument!.Unit);
        Assert.Single(Values(cleanup, SensorHubTelemetry.RpcMethod, SensorHubMethods.Subscribe), seconds => seconds >= 0);
        Assert.Empty(Values(cleanup, SensorHubTelemetry.RpcMethod, SensorHubMethods.SubscribeBatches));
    }
}
