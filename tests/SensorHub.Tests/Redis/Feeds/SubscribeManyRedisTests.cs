using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;
using SensorHub.Server.Redis.Feeds.Internal;
using SensorHub.Server.Shutdown;
using SensorHub.Tests.Infrastructure;
using StackExchange.Redis;

namespace SensorHub.Tests.Redis.Feeds;

/// <summary>
/// The Redis engine's side of <c>SubscribeMany</c>, at the engine's seam: sensor watches that hear registrations and
/// removals made on any node (and a Resync when a node may have missed one), and shared-buffer subscriptions that ride
/// on the node's one channel subscription per sensor and do not keep a sensor from idle removal.
/// </summary>
public sealed class SubscribeManyRedisTests(RedisFeedFixture fixture) : IClassFixture<RedisFeedFixture>
{
    [Fact]
    public async Task ASensorRegisteredOrRemovedOnOneNodeIsAnnouncedToTheWatchesOfAnotherWhosePrefixMatches()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        var prefix = Sensors.NewId("plant") + "/";
        using var watch = await b.Engine.WatchSensorsAsync(prefix, CancellationToken.None);
        using var other = await b.Engine.WatchSensorsAsync(Sensors.NewId("other"), CancellationToken.None);

        await a.Engine.PublishAsync(prefix + "line-1/temperature", 1, DateTime.UtcNow, SensorRegistration.ByPublisher("alice"), CancellationToken.None);
        await c.Engine.RegisterAsync(new SensorDescriptor(prefix + "own", "Own", "temperature", "°C"), CancellationToken.None);
        await a.Engine.PublishAsync(Sensors.NewId("elsewhere"), 1);
        // Published again, and adopted by the server: neither is a registration.
        await c.Engine.PublishAsync(prefix + "line-1/temperature", 2, DateTime.UtcNow, SensorRegistration.ByPublisher("alice"), CancellationToken.None);
        await a.Engine.RegisterAsync(new SensorDescriptor(prefix + "own", "Own", "humidity", "%"), CancellationToken.None);
        Assert.Equal(1, await c.Engine.RemoveIdleSensorsAsync(TimeSpan.Zero, CancellationToken.None));

        Assert.Equal(
            [
                new SensorChange(SensorChangeKind.Added, prefix + "line-1/temperature"),
                new SensorChange(SensorChangeKind.Added, prefix + "own"),
                new SensorChange(SensorChangeKind.Removed, prefix + "line-1/temperature"),
            ],
            await ReadChangesAsync(watch, 3));
        Assert.False(other.Changes.TryRead(out var unexpected), $"A watch of another prefix got {unexpected}.");
    }

    [Fact]
    public async Task ARegistrationWhoseAnnouncementIsLostReachesTheWatchesAsAResyncAtThePositionCheck()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        var prefix = Sensors.NewId("plant") + "/";
        using var watch = await b.Engine.WatchSensorsAsync(prefix, CancellationToken.None);

        // The publish script as a node runs it, with its announcement sent where no node listens: the sensor is
        // registered and the count of changes goes up, but no message reaches B, as when pub/sub loses one.
        var sensorId = prefix + "quiet";
        var keys = a.Services.GetRequiredService<RedisFeedKeys>();
        var ticks = DateTime.UtcNow.Ticks;
        await fixture.Redis.Admin.ScriptEvaluateAsync(
            RedisFeedScripts.Publish,
            [keys.Meta, keys.Sensor(sensorId), keys.History(sensorId), keys.Ids, keys.Publishers],
            [sensorId, "s", "", 1_000, 1_000, 100, keys.ChannelName(sensorId), ticks, nodes.Prefix + "nowhere", ticks, "1"]);

        Assert.Equal([new SensorChange(SensorChangeKind.Resync, null)], await ReadChangesAsync(watch, 1));
        // What the watch's reader then does: list again, and the sensor is there.
        var listed = await b.Engine.ListSensorsAsync(prefix, null, 10, null, CancellationToken.None);
        Assert.Equal([sensorId], listed.Sensors.Select(s => s.Id));

        // The node heard up to the count now: the next registration is told as usual, without another Resync.
        await a.Engine.PublishAsync(prefix + "loud", 1);
        Assert.Equal([new SensorChange(SensorChangeKind.Added, prefix + "loud")], await ReadChangesAsync(watch, 1));
    }

    [Fact]
    public async Task APubSubReconnectionSendsAResyncAndTheWatchHearsRegistrationsAfterIt()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        var prefix = Sensors.NewId("plant") + "/";
        using var watch = await b.Engine.WatchSensorsAsync(prefix, CancellationToken.None);

        await fixture.Redis.AdminServer.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");

        var changes = await ReadChangesAsync(watch, 1);
        Assert.Equal([new SensorChange(SensorChangeKind.Resync, null)], changes);
        // Registered until B hears it: once its pub/sub connection is back (and subscribed again), an announcement reaches it.
        var heard = new List<SensorChange>();
        for (var i = 0; !heard.Any(c => c.Kind == SensorChangeKind.Added); i++)
        {
            await a.Engine.PublishAsync(prefix + i, 1);
            heard.AddRange(await ReadChangesAsync(watch, 1));
        }
    }

    [Fact]
    public async Task PatternsOverTheSameSensorsShareOneChannelSubscriptionPerSensorOnANode()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        var prefix = Sensors.NewId("plant") + "/";
        var ids = Enumerable.Range(0, 5).Select(i => $"{prefix}{i}/temperature").ToArray();
        foreach (var id in ids)
            await a.Engine.PublishAsync(id, 1);
        var first = new SharedLiveBuffer(100);
        var second = new SharedLiveBuffer(100);
        var subscriptions = new List<IFeedSubscription>();
        try
        {
            foreach (var id in ids)
            {
                subscriptions.Add((await b.Engine.SubscribeAsync(id, first, CancellationToken.None))!);
                subscriptions.Add((await b.Engine.SubscribeAsync(id, second, CancellationToken.None))!);
            }
            using var own = await b.Engine.SubscribeAsync(ids[0], LiveBufferMode.Queue, CancellationToken.None);
            using var watch1 = await b.Engine.WatchSensorsAsync(prefix, CancellationToken.None);
            using var watch2 = await b.Engine.WatchSensorsAsync("", CancellationToken.None);

            var router = b.Services.GetRequiredService<RedisFeedRouter>();
            Assert.Equal([3, 2, 2, 2, 2], ids.Select(router.SubscribersOf));
            var channels = ids.Select(id => RedisChannel.Literal(nodes.Prefix + "feeds:c:" + id))
                .Append(RedisChannel.Literal(nodes.Prefix + "feeds:sensors"));
            foreach (var channel in channels)
                Assert.Equal(1, await fixture.Redis.AdminServer.SubscriptionSubscriberCountAsync(channel));
            var followed = await fixture.Redis.AdminServer.SubscriptionChannelsAsync(
                RedisChannel.Pattern(nodes.Prefix + "feeds:c:" + prefix + "*"));
            Assert.Equal(ids.Length, followed.Length);

            // And each pattern's buffer gets every sensor's readings, in order per sensor.
            var published = new List<Reading>();
            foreach (var id in ids)
                published.AddRange(await a.Engine.PublishAsync(id, 3, firstValue: 10));
            foreach (var buffer in new[] { first, second })
            {
                var received = await ReadAsync(buffer, published.Count);
                foreach (var id in ids)
                    Assert.Equal(published.Where(r => r.SensorId == id), received.Where(r => r.SensorId == id));
            }
        }
        finally
        {
            foreach (var subscription in subscriptions)
                subscription.Dispose();
        }
    }

    [Fact]
    public async Task ASharedSubscriptionJoinsLiveWithoutGapWhilePublishersOnTwoOtherNodesPublish()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        var sensorId = Sensors.NewId();
        await a.Engine.PublishAsync(sensorId, 1);
        var buffer = new SharedLiveBuffer(10_000);
        const int each = 300;
        var publishers = new[] { a, c }.Select(node => Task.Run(async () =>
        {
            var readings = new List<Reading>();
            for (var i = 0; i < each; i++)
                readings.Add(await node.Engine.PublishAsync(sensorId, i, DateTime.UtcNow, CancellationToken.None));
            return readings;
        })).ToArray();

        using var subscription = (await b.Engine.SubscribeAsync(sensorId, buffer, CancellationToken.None))!;
        var published = (await Task.WhenAll(publishers)).SelectMany(r => r).OrderBy(r => r.Sequence).ToList();

        // Every reading after the seam arrives, once and in order; the ones up to it are in history (a few of them may
        // arrive too, when the channel's messages raced the attach: the stream skips what it already has).
        var received = new List<Reading>();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        while (received.Count == 0 || received[^1].Sequence < published[^1].Sequence)
            received.Add(await buffer.Reader.ReadAsync(cts.Token));
        Assert.Equal(published.Where(r => r.Sequence > subscription.AttachedAfter), received.Where(r => r.Sequence > subscription.AttachedAfter));
        Sensors.AssertConsecutive(received);
    }

    [Fact]
    public async Task ASensorWithOnlyPatternSubscribersIsRemovedAsIdleAndTheyGetNothingMoreFromIt()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, c) = await nodes.StartThreeAsync();
        using var followed = await FollowedAsync(a, b);
        var router = b.Services.GetRequiredService<RedisFeedRouter>();

        // Longer than the idle time, over several of B's position checks: a pattern subscriber does not mark it seen.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(1, await c.Engine.RemoveIdleSensorsAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal([new SensorChange(SensorChangeKind.Removed, followed.SensorId)], await ReadChangesAsync(followed.Watch, 1));
        Assert.Equal(0, router.SubscribersOf(followed.SensorId));

        await AssertOnlyTheNewSensorsSubscriptionOffersItsReadingsAsync(a, b, followed);
    }

    [Fact]
    public async Task ASensorRegisteredAnewReachesNoPatternSubscriptionOfTheOldOneEvenWhenItsRemovalWasNotHeard()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var (a, b, _) = await nodes.StartThreeAsync();
        using var followed = await FollowedAsync(a, b);

        // The removal as a node's sweep runs it, with its announcement sent where no node listens.
        var keys = a.Services.GetRequiredService<RedisFeedKeys>();
        var sensorId = followed.SensorId;
        Assert.Equal(1, (int)await fixture.Redis.Admin.ScriptEvaluateAsync(
            RedisFeedScripts.RemoveIdle,
            [keys.Meta, keys.Sensor(sensorId), keys.History(sensorId), keys.Ids, keys.Publishers],
            [sensorId, 0, nodes.Prefix + "nowhere"]));

        await AssertOnlyTheNewSensorsSubscriptionOffersItsReadingsAsync(a, b, followed);
        // And the watch, which heard the registration's number jump past the removal's, lists again.
        Assert.Equal([new SensorChange(SensorChangeKind.Resync, null)], await ReadChangesAsync(followed.Watch, 1));
    }

    /// <summary>A publisher's sensor on node A, watched on B, with a pattern subscription on B into a buffer of its own.</summary>
    private static async Task<Followed> FollowedAsync(SensorHubApplication a, SensorHubApplication b)
    {
        var sensorId = Sensors.NewId();
        Assert.True((await a.Engine.PublishAsync(sensorId, 1, DateTime.UtcNow, Followed.Registration, CancellationToken.None)).IsPublished);
        var watch = await b.Engine.WatchSensorsAsync(sensorId, CancellationToken.None);
        var buffer = new SharedLiveBuffer(100);
        return new Followed(sensorId, watch, buffer, (await b.Engine.SubscribeAsync(sensorId, buffer, CancellationToken.None))!);
    }

    /// <summary>
    /// Once the followed sensor is removed: A registers it anew, the stream subscribes to the new sensor, and only that
    /// subscription offers its readings, once each (the first may come too, when its message raced the attach; the
    /// stream skips it as at or below the seam). Had the old subscription stayed on the channel, the second would come
    /// twice, both before the third (one channel's readings are offered to every subscriber in turn, in order).
    /// </summary>
    private static async Task AssertOnlyTheNewSensorsSubscriptionOffersItsReadingsAsync(SensorHubApplication a, SensorHubApplication b, Followed followed)
    {
        var first = await a.Engine.PublishAsync(followed.SensorId, 1, DateTime.UtcNow, Followed.Registration, CancellationToken.None);
        Assert.Equal(PublishStatus.Registered, first.Status);
        using var renewed = (await b.Engine.SubscribeAsync(followed.SensorId, followed.Buffer, CancellationToken.None))!;
        var later = new List<Reading>();
        for (var i = 2; i <= 3; i++)
            later.Add((await a.Engine.PublishAsync(followed.SensorId, i, DateTime.UtcNow, Followed.Registration, CancellationToken.None)).Reading!);

        var received = new List<Reading>();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        while (received.Count == 0 || received[^1] != later[^1])
            received.Add(await followed.Buffer.Reader.ReadAsync(cts.Token));
        Assert.Equal(received[0] == first.Reading ? [first.Reading!, .. later] : later, received);
        Assert.True(renewed.AttachedAfter >= first.Reading!.Sequence - 1);
    }

    private sealed record Followed(string SensorId, ISensorWatch Watch, SharedLiveBuffer Buffer, IFeedSubscription Old) : IDisposable
    {
        public static SensorRegistration Registration => SensorRegistration.ByPublisher("alice");

        public void Dispose()
        {
            Old.Dispose();
            Watch.Dispose();
        }
    }

    [Fact]
    public async Task AtServerShutdownWatchesAndSharedBuffersComplete()
    {
        await using var nodes = new RedisNodes(fixture.Redis);
        var node = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        await node.Engine.PublishAsync(sensorId, 1);
        using var watch = await node.Engine.WatchSensorsAsync("", CancellationToken.None);
        var buffer = new SharedLiveBuffer(10);
        using var subscription = (await node.Engine.SubscribeAsync(sensorId, buffer, CancellationToken.None))!;

        node.Services.GetRequiredService<ShutdownSignal>().Raise();

        await watch.Changes.Completion.WaitAsync(Timeouts.Default);
        await buffer.Reader.Completion.WaitAsync(Timeouts.Default);
        using var late = await node.Engine.WatchSensorsAsync("", CancellationToken.None);
        await late.Changes.Completion.WaitAsync(Timeouts.Default);
    }

    [Fact]
    public async Task ANodeThatGivesUpOnRedisFailsItsWatchesAndSharedSubscriptionsWithBackendUnavailable()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:00:00.500" });
        var node = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        await node.Engine.PublishAsync(sensorId, 1);
        using var watch = await node.Engine.WatchSensorsAsync("", CancellationToken.None);
        var buffer = new SharedLiveBuffer(10);
        using var subscription = (await node.Engine.SubscribeAsync(sensorId, buffer, CancellationToken.None))!;

        redis.Stop();

        foreach (var completion in new[] { watch.Changes.Completion, buffer.Reader.Completion })
        {
            var failed = await Assert.ThrowsAsync<SensorHubException>(() => completion.WaitAsync(Timeouts.Default));
            Assert.Equal(SensorHubErrors.BackendUnavailable, failed.Code);
        }
        var refused = await Assert.ThrowsAsync<SensorHubException>(async () => await node.Engine.WatchSensorsAsync("", CancellationToken.None));
        Assert.Equal(SensorHubErrors.BackendUnavailable, refused.Code);
    }

    [Theory]
    [InlineData("+17 plant/a", SensorChangeKind.Added, 17L, "plant/a", long.MaxValue - 1)]
    [InlineData("-3 b 1764460800000000", SensorChangeKind.Removed, 3L, "b", 1764460800000000L)]
    [InlineData("-3 b", SensorChangeKind.Removed, 3L, "b", long.MaxValue - 1)]
    public void AnnouncementsParse(string text, SensorChangeKind kind, long number, string id, long last)
    {
        Assert.True(RedisFeedRouter.TryParseChange(text, out var change, out var parsed, out var parsedLast));
        Assert.Equal((new SensorChange(kind, id), number, last), (change, parsed, parsedLast));
    }

    [Theory]
    [InlineData("")]
    [InlineData("+17")]
    [InlineData("+17 ")]
    [InlineData("*17 a")]
    [InlineData("+x a")]
    [InlineData("+ a")]
    [InlineData("+1 a 5")]
    [InlineData("-1 a x")]
    [InlineData("-1 a ")]
    public void AnnouncementsThatDoNotParseAreLeftOut(string text) =>
        Assert.False(RedisFeedRouter.TryParseChange(text, out _, out _, out _));

    private static async Task<List<SensorChange>> ReadChangesAsync(ISensorWatch watch, int count)
    {
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var changes = new List<SensorChange>();
        while (changes.Count < count)
            changes.Add(await watch.Changes.ReadAsync(cts.Token));
        return changes;
    }

    private static async Task<List<Reading>> ReadAsync(SharedLiveBuffer buffer, int count)
    {
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var readings = new List<Reading>();
        while (readings.Count < count)
            readings.Add(await buffer.Reader.ReadAsync(cts.Token));
        return readings;
    }
}
