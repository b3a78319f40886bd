using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The rule for every generator: whatever it acquired is released if anything after the acquisition throws. For
/// <c>Subscribe</c> and <c>SubscribeBatches</c> that is the live subscription, the connection's stream slot and the
/// active-stream count.
/// </summary>
public sealed class FeedFailedStartTests
{
    public static TheoryData<string> Methods => new() { SensorHubMethods.Subscribe, SensorHubMethods.SubscribeBatches };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task AGeneratorWhoseStartThrowsAfterAttachingReleasesTheSubscription(string method)
    {
        using var harness = new EngineHarness();
        var feeds = new FeedStreams(harness.Engine, harness.History, harness.Options, harness.Time, NullLogger<FeedStreams>.Instance);
        await harness.Engine.PublishAsync("s", 1);
        // Past the hub's check: the cursor refuses it after the live buffer was attached.
        var options = new SubscribeOptions { MaxRate = 1e-13 };
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            if (method == SensorHubMethods.Subscribe)
                await feeds.ReadingsAsync("s", options, cts.Token).GetAsyncEnumerator(cts.Token).MoveNextAsync();
            else
                await feeds.BatchesAsync("s", options, cts.Token).GetAsyncEnumerator(cts.Token).MoveNextAsync();
        });

        Assert.True(harness.Registry.TryGet("s", out var feed));
        Assert.Empty(feed.Subscribers);
        Assert.Equal(0, harness.Engine.GetCounters().Subscriptions);
    }

    [Theory]
    [MemberData(nameof(HubTargets.AllWithSubscribeMethods), MemberType = typeof(HubTargets))]
    public async Task FailedStartsGiveBackEverySlotAndCount(Transport transport, Protocol protocol, string method)
    {
        const int limit = 3;
        await using var app = new SensorHubApplication(transport, new Dictionary<string, string?>
        {
            ["SensorHub:Hub:MaxStreamsPerConnection"] = $"{limit}",
        });
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // More failed starts than the connection has slots: unknown sensors (refused on the generator's first step),
        // and options refused before it.
        for (var i = 0; i < limit * 2; i++)
        {
            var unknown = await Assert.ThrowsAsync<HubException>(() => ReadOneAsync(connection, method, Sensors.NewId(), null, cts.Token));
            Assert.Equal(SensorHubErrors.UnknownSensor, SensorHubErrors.CodeOf(unknown.Message));
            var badRate = await Assert.ThrowsAsync<HubException>(
                () => ReadOneAsync(connection, method, sensorId, new SubscribeOptions { MaxRate = 1e-13 }, cts.Token));
            Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(badRate.Message));
        }
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == 0, Timeouts.Default, "the failed streams are counted out");
        Assert.Equal(0, app.Engine.GetCounters().Subscriptions);

        // Every slot is free again: the connection opens as many streams as it may, and each gets the next reading.
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var open = Enumerable.Range(0, limit).Select(_ => ReadOneAsync(connection, method, sensorId, null, leave.Token)).ToList();
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId, limit);
        Assert.Equal(limit, app.Activity.ActiveStreams);
        var published = await app.Engine.PublishAsync(sensorId, 1);
        foreach (var stream in open)
            Assert.Equal(published[0], await stream);
        await Timeouts.WaitUntilAsync(
            () => app.Activity.ActiveStreams == 0 && Sensors.SubscribersOf(app, sensorId) == 0, Timeouts.Default, "the streams ended");
    }

    private static async Task<Reading> ReadOneAsync(
        TestConnection connection, string method, string sensorId, SubscribeOptions? options, CancellationToken cancellationToken) =>
        method == SensorHubMethods.Subscribe
            ? (await connection.Hub.ReadReadingsAsync(sensorId, options, 1, cancellationToken))[0]
            : (await connection.Hub.ReadBatchesAsync(sensorId, options, 1, cancellationToken)).Readings[0];
}
