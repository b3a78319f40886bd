using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;
using SensorHub.Server.Redis.Feeds.Internal;
using SensorHub.Tests.Infrastructure;
using StackExchange.Redis;

namespace SensorHub.Tests.Redis.Feeds;

/// <summary>One redis-server for the feed tests that do not stop it; each test makes a cluster under a prefix of its own.</summary>
public sealed class RedisFeedFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync() => Redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Redis.DisposeAsync();
}

/// <summary>What holds across nodes for feeds: one SensorHub, whichever node publishes and whichever subscribes.</summary>
public sealed class RedisFeedTests(RedisFeedFixture fixture) : IClassFixture<RedisFeedFixture>
{
    [Fact]
    public async Task AReadingPublishedOnAnyNodeReachesASubscriberOnAnotherInSequenceOrder()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        await a.Engine.PublishAsync(sensorId, 1);
        await using var connection = await b.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var received = connection.Hub.ReadReadingsAsync(sensorId, null, 60, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(b, sensorId);
        var published = new List<Reading>();
        for (var i = 0; i < 30; i++)
        {
            published.Add(await a.Engine.PublishAsync(sensorId, i, DateTime.UtcNow, CancellationToken.None));
            published.Add(await c.Engine.PublishAsync(sensorId, 100 + i, DateTime.UtcNow, CancellationToken.None));
        }

        var readings = await received;
        Assert.Equal(published, readings);
        Sensors.AssertConsecutive(readings);
    }

    [Fact]
    public async Task AReplayJoinsLiveWithoutGapOrDuplicateWhilePublishersOnTwoOtherNodesPublish()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        var history = await a.Engine.PublishAsync(sensorId, 2_000);
        var from = history[200].Sequence;
        await using var connection = await b.ConnectAsync(Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        const int each = 400;
        var publishers = new[] { a, c }.Select(node => Task.Run(async () =>
        {
            for (var i = 0; i < each; i++)
            {
                await node.Engine.PublishAsync(sensorId, i, DateTime.UtcNow, CancellationToken.None);
                if (i % 25 == 0)
                    await Task.Yield();
            }
        })).ToArray();
        var readings = await connection.Hub.ReadReadingsAsync(
            sensorId, new SubscribeOptions { FromSequence = from }, 1_800 + 2 * each, cts.Token);
        await Task.WhenAll(publishers);

        Assert.Equal(from, readings[0].Sequence);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(history[^1].Sequence + 2 * each, readings[^1].Sequence);
        Assert.Equal(history.Skip(200), readings.Take(1_800));
    }

    [Fact]
    public async Task EveryNodeListsEverySensorWithItsNewestReading()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        var prefix = Sensors.NewId("list") + "/";
        await a.Engine.RegisterAsync(new SensorDescriptor(prefix + "own", "Own", "temperature", "°C"), CancellationToken.None);
        var newest = new Dictionary<string, Reading>();
        for (var i = 0; i < 5; i++)
            newest[prefix + i] = (await (i % 2 == 0 ? a : c).Engine.PublishAsync(prefix + i, 3, firstValue: i * 10))[^1];

        foreach (var node in new[] { a, b, c })
        {
            var first = await node.Engine.ListSensorsAsync(prefix, null, 4, null, CancellationToken.None);
            var second = await node.Engine.ListSensorsAsync(prefix, first.Next, 4, null, CancellationToken.None);
            Assert.NotNull(first.Next);
            Assert.Null(second.Next);
            var all = first.Sensors.Concat(second.Sensors).ToList();
            Assert.Equal(Enumerable.Range(0, 5).Select(i => prefix + i).Append(prefix + "own"), all.Select(s => s.Id));
            foreach (var sensor in all.Take(5))
            {
                Assert.Equal(newest[sensor.Id].Sequence, sensor.LastSequence);
                Assert.Equal(newest[sensor.Id].Value, sensor.LastValue);
                Assert.Equal(newest[sensor.Id].Timestamp, sensor.LastTimestamp);
            }
            var own = all[^1];
            Assert.Equal(("Own", "temperature", "°C", 0L), (own.Name, own.Kind, own.Unit, own.LastSequence));
            Assert.Equal(newest[prefix + 3].Sequence, (await node.Engine.FindSensorAsync(prefix + 3, CancellationToken.None))!.LastSequence);
            var visible = await node.Engine.ListSensorsAsync(prefix, null, 2, id => id.EndsWith('3') || id.EndsWith('4'), CancellationToken.None);
            Assert.Equal([prefix + 3, prefix + 4], visible.Sensors.Select(s => s.Id));
        }
    }

    [Fact]
    public async Task StatsSayWhichCountsAreTheClustersAndWhichTheNodes()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        await a.Engine.PublishAsync(Sensors.NewId(), 7);

        await Timeouts.WaitUntilAsync(async () => (await b.GetStatsAsync()).ReadingsPublished == 7, Timeouts.Default, "node B counts the cluster's readings");
        var stats = await b.GetStatsAsync();
        Assert.Equal(RedisNodes.NodeIdOf(b), stats.Node);
        Assert.Equal(["sensors", "readingsPublished"], stats.ClusterWide);
        Assert.Equal(1, stats.Sensors);
    }

    [Fact]
    public async Task SequencesContinueAcrossNodeRestartsAndStayConsecutive()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var a = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        var before = await a.Engine.PublishAsync(sensorId, 5);
        await nodes.KillAsync(a);
        var d = await nodes.StartNodeAsync();

        var after = await d.Engine.PublishAsync(sensorId, 5);
        Sensors.AssertConsecutive([.. before, .. after]);
        Assert.InRange(after[^1].Sequence, 1, (1L << 53) - 1);
    }

    [Fact]
    public async Task ASensorRemovedAsIdleAndRegisteredAgainStartsAboveEveryEarlierSequence()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        var registration = SensorRegistration.ByPublisher("alice");
        for (var i = 0; i < 3; i++)
            Assert.True((await a.Engine.PublishAsync(sensorId, i, DateTime.UtcNow, registration, CancellationToken.None)).IsPublished);
        var old = (await a.Engine.FindSensorAsync(sensorId, CancellationToken.None))!;
        // Make the old numbering run far ahead of the clock, as a sensor averaging over a million readings a second would.
        await fixture.Redis.Admin.HashSetAsync(nodes.Prefix + "feeds:s:" + sensorId, "last", old.LastSequence + 10_000_000_000);

        Assert.Equal(1, await b.Engine.RemoveIdleSensorsAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Null(await a.Engine.FindSensorAsync(sensorId, CancellationToken.None));
        var again = await a.Engine.PublishAsync(sensorId, 1, DateTime.UtcNow, registration, CancellationToken.None);

        Assert.Equal(PublishStatus.Registered, again.Status);
        Assert.True(again.Reading!.Sequence > old.LastSequence + 10_000_000_000);
        Assert.Equal(0, await b.Engine.RemoveIdleSensorsAsync(TimeSpan.FromHours(1), CancellationToken.None));
    }

    [Fact]
    public async Task NoNodeRemovesASensorThatHasASubscriberOnAnotherNode()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        var watched = Sensors.NewId();
        var idle = Sensors.NewId();
        foreach (var id in new[] { watched, idle })
            Assert.True((await a.Engine.PublishAsync(id, 1, DateTime.UtcNow, SensorRegistration.ByPublisher("alice"), CancellationToken.None)).IsPublished);
        using (var subscription = await b.Engine.SubscribeAsync(watched, LiveBufferMode.Queue, CancellationToken.None))
        {
            // Longer than the idle time with no reading: only the subscriber on B keeps it (B marks it seen at each position check).
            await Task.Delay(TimeSpan.FromSeconds(1.2));
            Assert.Equal(1, await c.Engine.RemoveIdleSensorsAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
            Assert.Null(await c.Engine.FindSensorAsync(idle, CancellationToken.None));
            Assert.NotNull(await c.Engine.FindSensorAsync(watched, CancellationToken.None));
        }
        await Timeouts.WaitUntilAsync(
            async () => await c.Engine.RemoveIdleSensorsAsync(TimeSpan.FromSeconds(1), CancellationToken.None) == 1,
            Timeouts.Default,
            "the sensor goes once its subscriber left and it stayed idle");
        Assert.Null(await a.Engine.FindSensorAsync(watched, CancellationToken.None));
        Assert.Empty((await a.Engine.ListSensorsAsync(watched, null, 10, null, CancellationToken.None)).Sensors);
    }

    [Fact]
    public async Task TheCapsAreExactAcrossNodesWhenPublishersRace()
    {
        await using var nodes = new RedisNodes(fixture.Redis, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Feeds:MaxSensors"] = "10",
            ["SensorHub:Feeds:MaxSensorsPerPublisher"] = "6",
        });
        var (a, b, c) = await nodes.StartThreeAsync();
        var prefix = Sensors.NewId("caps") + "/";
        var attempts = Enumerable.Range(0, 30).Select(i => (i % 3 == 0 ? a : i % 3 == 1 ? b : c).Engine.PublishAsync(
            prefix + i, 1, DateTime.UtcNow, SensorRegistration.ByPublisher(i % 2 == 0 ? "alice" : "bob"), CancellationToken.None).AsTask());
        var outcomes = await Task.WhenAll(attempts);

        Assert.Equal(10, outcomes.Count(o => o.Status == PublishStatus.Registered));
        Assert.True(outcomes.Where((o, i) => i % 2 == 0).Count(o => o.IsPublished) <= 6);
        Assert.True(outcomes.Where((o, i) => i % 2 == 1).Count(o => o.IsPublished) <= 6);
    }

    [Fact]
    public async Task ASlowSubscriberDropsItsOldestWithoutSlowingAnotherOnItsNode()
    {
        await using var nodes = new RedisNodes(fixture.Redis, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Feeds:SubscriberBufferCapacity"] = "10",
        });
        var (a, b, _) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        await a.Engine.PublishAsync(sensorId, 1);
        using var slow = (await b.Engine.SubscribeAsync(sensorId, LiveBufferMode.Queue, CancellationToken.None))!;
        await using var connection = await b.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var received = connection.Hub.ReadReadingsAsync(sensorId, null, 500, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(b, sensorId, 2);

        var published = new List<Reading>();
        for (var i = 0; i < 50; i++)
            published.AddRange(await PublishRunAsync(a, sensorId, 10));

        // The fast one gets every reading (its cursor fills from the stream what its own buffer of 10 dropped).
        Assert.Equal(published, await received);
        // The slow one never read: its buffer holds the newest 10, the oldest were dropped.
        var buffered = new List<Reading>();
        await Timeouts.WaitUntilAsync(
            () =>
            {
                while (slow.Live.TryRead(out var r))
                    buffered.Add(r);
                return buffered.Count > 0 && buffered[^1].Sequence == published[^1].Sequence;
            },
            Timeouts.Default,
            "the slow subscriber's buffer holds the newest reading");
        Assert.Equal(published.TakeLast(10), buffered);
    }

    [Fact]
    public async Task KillingThePubSubConnectionLeavesNoGap()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        await a.Engine.PublishAsync(sensorId, 1);
        await using var connection = await b.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var received = connection.Hub.ReadReadingsAsync(sensorId, null, 300, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(b, sensorId);

        var published = await a.Engine.PublishAsync(sensorId, 100);
        await fixture.Redis.AdminServer.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        published.AddRange(await a.Engine.PublishAsync(sensorId, 100));
        await fixture.Redis.AdminServer.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        published.AddRange(await a.Engine.PublishAsync(sensorId, 100));

        var readings = await received;
        Assert.Equal(published, readings);
    }

    [Fact]
    public async Task APublishRunIsOneScriptWithConsecutiveSequences()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        var run = await PublishRunAsync(a, sensorId, 1_000);

        Sensors.AssertConsecutive(run);
        var history = await b.Services.GetRequiredService<IReadingHistory>().ReadAsync(sensorId, run[0].Sequence, 2_000, CancellationToken.None);
        Assert.Equal(run, history);
    }

    private static async Task<List<Reading>> PublishRunAsync(SensorHubApplication node, string sensorId, int count)
    {
        var now = DateTime.UtcNow;
        var values = Enumerable.Range(0, count).Select(i => new ReadingValue(i * 0.5, now.AddTicks(i))).ToArray();
        var outcome = await node.Engine.PublishManyAsync(sensorId, values, SensorRegistration.ByServer, CancellationToken.None);
        Assert.Equal(count, outcome.Published);
        return values.Select((v, i) => new Reading { SensorId = sensorId, Sequence = outcome.FirstSequence + i, Timestamp = v.TimestampUtc, Value = v.Value }).ToList();
    }
}
