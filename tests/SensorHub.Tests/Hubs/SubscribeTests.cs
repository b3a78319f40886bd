using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Redis.Feeds;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The subscription contract over every engine target: readings published on node A, subscribed to on node B (one
/// node on the in-memory engine and on one Redis node), with one run over real Kestrel.
/// </summary>
public sealed class SubscribeTests(EngineFixture engines, ApplicationFixture apps) : IClassFixture<EngineFixture>, IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SubscribeOverKestrelDeliversLiveReadingsInSequenceOrder(Protocol protocol)
    {
        var app = apps[Transport.Kestrel];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var received = connection.Hub.ReadReadingsAsync(sensorId, null, 50, cts.Token);
        await WaitForSubscriberAsync(app, sensorId);
        var published = await app.Engine.PublishAsync(sensorId, 50, firstValue: 100);

        Assert.Equal(published, await received);
        await cts.CancelAsync();
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task SubscribeDeliversLiveReadingsInSequenceOrder(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        await publisher.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var received = connection.Hub.ReadReadingsAsync(sensorId, null, 50, cts.Token);
        await WaitForSubscriberAsync(app, sensorId);
        var published = await publisher.PublishAsync(sensorId, 50, firstValue: 100);

        var readings = await received;
        Assert.Equal(published, readings);
        Assert.All(readings, r => Assert.Equal(DateTimeKind.Utc, r.Timestamp.Kind));
        Sensors.AssertConsecutive(readings);
        await cts.CancelAsync();
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ReplayJoinsLiveWithoutGapOrDuplicateWhileAPublisherRuns(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        var history = await publisher.PublishAsync(sensorId, 3_000);
        var from = history[500].Sequence;
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // The publisher runs while the replay is read and sent: 800 readings, within the subscriber's buffer of 1,000.
        using var publishing = new CancellationTokenSource();
        // On three nodes it publishes on C, while the history came from A and the subscriber is on B.
        var running = Task.Run(async () =>
        {
            for (var i = 0; i < 800 && !publishing.IsCancellationRequested; i++)
            {
                await nodes.C.Engine.PublishAsync(sensorId, 10_000 + i, DateTime.UtcNow, CancellationToken.None);
                if (i % 50 == 0)
                    await Task.Yield();
            }
        });
        var readings = await connection.Hub.ReadReadingsAsync(
            sensorId, new SubscribeOptions { FromSequence = from }, 2_500 + 800, cts.Token);
        await running;

        Assert.Equal(from, readings[0].Sequence);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(history[^1].Sequence + 800, readings[^1].Sequence);
        var stats = await app.GetStatsAsync();
        Assert.Equal(0, stats.ReadingsDropped);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task FromSequenceOlderThanHistoryStartsAtTheOldestKept(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        var history = await publisher.PublishAsync(sensorId, 10);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var fromZero = await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 10, cts.Token);
        var fromOne = await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 1 }, 10, cts.Token);

        Assert.Equal(history, fromZero);
        Assert.Equal(history, fromOne);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task FromSequencePastTheNewestWaitsForThatSequenceLive(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        var history = await publisher.PublishAsync(sensorId, 5);
        var from = history[^1].Sequence + 3;
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var received = connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = from }, 4, cts.Token);
        await WaitForSubscriberAsync(app, sensorId);
        var live = await publisher.PublishAsync(sensorId, 6);

        Assert.Equal(live.Skip(2), await received);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task HundredSubscribersOnOneSensorEachGetTheIdenticalSequence(EngineTarget engine, Protocol protocol)
    {
        const int subscribers = 100, count = 200;
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        await publisher.PublishAsync(sensorId, 1);
        await using var first = await app.ConnectAsync(protocol);
        await using var second = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // Two connections, fifty streams each, so that both per-connection and cross-connection fan-out are covered.
        var streams = Enumerable.Range(0, subscribers)
            .Select(i => (i % 2 == 0 ? first : second).Hub.ReadReadingsAsync(sensorId, null, count, cts.Token))
            .ToList();
        await WaitForSubscriberAsync(app, sensorId, subscribers);
        var published = await publisher.PublishAsync(sensorId, count);

        foreach (var stream in streams)
            Assert.Equal(published, await stream);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task SubscribeBatchesDeliversTheSameReadingsAsSubscribe(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        var history = await publisher.PublishAsync(sensorId, 700);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var options = new SubscribeOptions { FromSequence = history[0].Sequence };

        var single = connection.Hub.ReadReadingsAsync(sensorId, options, 1_400, cts.Token);
        var batches = connection.Hub.ReadBatchesAsync(sensorId, options, 1_400, cts.Token);
        await WaitForSubscriberAsync(app, sensorId, 2);
        await publisher.PublishAsync(sensorId, 700);

        var (batched, batchCount) = await batches;
        Assert.Equal(await single, batched);
        Assert.True(batchCount < batched.Count, $"{batched.Count} readings came in {batchCount} batches: nothing was batched.");
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task SubscribeBatchesDeliversAnIdleFeedsReadingAlone(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        await publisher.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var batches = connection.Hub.StreamAsync<Reading[]>(SensorHubMethods.SubscribeBatches, sensorId, null, cts.Token)
            .GetAsyncEnumerator(cts.Token);
        var next = batches.MoveNextAsync();
        await WaitForSubscriberAsync(app, sensorId);
        var reading = (await publisher.PublishAsync(sensorId, 1))[0];

        Assert.True(await next);
        Assert.Equal([reading], batches.Current);
        await cts.CancelAsync();
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ListSensorsShowsEachSensorsNewestReading(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var sensorId = Sensors.NewId();
        var published = await publisher.PublishAsync(sensorId, 3, firstValue: 7.5);
        await using var connection = await app.ConnectAsync(protocol);

        var sensors = await connection.Hub.ListAllSensorsAsync(sensorId);

        var sensor = Assert.Single(sensors, s => s.Id == sensorId);
        Assert.Equal(published[^1].Sequence, sensor.LastSequence);
        Assert.Equal(9.5, sensor.LastValue);
        Assert.Equal(published[^1].Timestamp, sensor.LastTimestamp);
        Assert.Equal("device", sensor.Kind);
    }

    internal static async Task WaitForSubscriberAsync(SensorHubApplication app, string sensorId, int subscribers = 1)
    {
        // A stream's subscription is attached when its generator takes its first step on the server.
        await Timeouts.WaitUntilAsync(
            () => app.Engine.GetCounters().Subscriptions >= subscribers && FeedProbe.SubscribersOf(app, sensorId) >= subscribers,
            Timeouts.Default,
            $"{subscribers} subscribers on {sensorId} (has {FeedProbe.SubscribersOf(app, sensorId)}, engine {app.Engine.GetCounters().Subscriptions}, streams {app.Activity.ActiveStreams})");
    }
}
