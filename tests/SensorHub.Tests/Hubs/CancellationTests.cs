using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SensorHub.Contracts;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// A stream's generator ends, its finally runs and its subscription is released, however the stream ends: the client
/// cancels it, the connection closes or drops, or the server shuts down. <c>activeStreams</c> falls when SignalR has
/// disposed the generator, that is after its finally ran; the sensor's subscriber count falls in that finally.
/// </summary>
public sealed class CancellationTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.AllWithSubscribeMethods), MemberType = typeof(HubTargets))]
    public async Task StreamEndsWhenTheClientCancelsIt(Transport transport, Protocol protocol, string method)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        var baseline = app.Activity.ActiveStreams;
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var reader = ConsumeAsync(connection.Hub, method, sensorId, cts.Token);
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId);
        Assert.Equal(baseline + 1, app.Activity.ActiveStreams);

        await cts.CancelAsync();

        await AssertGeneratorEndedAsync(app, sensorId, baseline);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.WaitAsync(Timeouts.Default));
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    [Theory]
    [MemberData(nameof(HubTargets.AllWithSubscribeMethods), MemberType = typeof(HubTargets))]
    public async Task StreamEndsWhenTheConnectionCloses(Transport transport, Protocol protocol, string method)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        var connection = await app.ConnectAsync(protocol);
        var baseline = app.Activity.ActiveStreams;

        var reader = ConsumeAsync(connection.Hub, method, sensorId, CancellationToken.None);
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId);

        await connection.Hub.StopAsync().WaitAsync(Timeouts.Default);

        await AssertGeneratorEndedAsync(app, sensorId, baseline);
        await Assert.ThrowsAnyAsync<Exception>(() => reader.WaitAsync(Timeouts.Default));
        await connection.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(HubTargets.AllWithSubscribeMethods), MemberType = typeof(HubTargets))]
    public async Task StreamEndsWhenTheConnectionDrops(Transport transport, Protocol protocol, string method)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        var baseline = app.Activity.ActiveStreams;

        var reader = ConsumeAsync(connection.Hub, method, sensorId, CancellationToken.None);
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId);

        connection.Drop();

        await AssertGeneratorEndedAsync(app, sensorId, baseline);
        await Assert.ThrowsAnyAsync<Exception>(() => reader.WaitAsync(Timeouts.Default));
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task StreamsCompleteAndNothingHangsWhenTheServerShutsDown(Transport transport, Protocol protocol)
    {
        var app = new SensorHubApplication(transport);
        try
        {
            var sensorId = Sensors.NewId();
            await app.Engine.PublishAsync(sensorId, 1);
            var activity = app.Activity;
            var registry = app.Services.GetRequiredService<SensorFeedRegistry>();
            await using var connection = await app.ConnectAsync(protocol);
            var readings = ConsumeAsync(connection.Hub, SensorHubMethods.Subscribe, sensorId, CancellationToken.None);
            var batches = ConsumeAsync(connection.Hub, SensorHubMethods.SubscribeBatches, sensorId, CancellationToken.None);
            await SubscribeTests.WaitForSubscriberAsync(app, sensorId, 2);
            Assert.Equal(2, activity.ActiveStreams);

            app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

            await Timeouts.WaitUntilAsync(() => activity.ActiveStreams == 0, Timeouts.GeneratorEnd, "generators ended after shutdown began");
            Assert.True(registry.TryGet(sensorId, out var feed));
            Assert.Empty(feed.Subscribers);
            // The client sees its streams complete, not the connection close under them (ShutdownTests covers more).
            await Task.WhenAll(readings, batches).WaitAsync(Timeouts.Default);
        }
        finally
        {
            await app.DisposeAsync().AsTask().WaitAsync(Timeouts.Default);
        }
    }

    private static async Task AssertGeneratorEndedAsync(SensorHubApplication app, string sensorId, long baseline)
    {
        await Timeouts.WaitUntilAsync(
            () => app.Activity.ActiveStreams == baseline && Sensors.SubscribersOf(app, sensorId) == 0,
            Timeouts.GeneratorEnd,
            $"the generator on {sensorId} ended and activeStreams went back to {baseline}");
        Assert.Equal(baseline, (await app.GetStatsAsync()).ActiveStreams);
    }

    private static Task ConsumeAsync(HubConnection hub, string method, string sensorId, CancellationToken cancellationToken) =>
        method == SensorHubMethods.Subscribe
            ? Task.Run(async () => { await foreach (var _ in hub.StreamAsync<Reading>(method, sensorId, null, cancellationToken)) { } }, CancellationToken.None)
            : Task.Run(async () => { await foreach (var _ in hub.StreamAsync<Reading[]>(method, sensorId, null, cancellationToken)) { } }, CancellationToken.None);
}
