using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// What the in-memory engine gives a <c>SubscribeMany</c> stream: watches of sensors added and removed, and
/// subscriptions that write into one buffer shared by many sensors and do not keep a sensor from idle removal.
/// </summary>
public sealed class SubscribeManyEngineTests
{
    private static readonly TimeSpan s_idle = TimeSpan.FromDays(7);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task AWatchHearsOfEverySensorAddedUnderItsPrefixAndItsFirstReadingIsInHistoryOrLive()
    {
        using var harness = new EngineHarness(time: _time);
        using var watch = await harness.Engine.WatchSensorsAsync("plant/", CancellationToken.None);
        var buffer = new SharedLiveBuffer(100);
        var subscriptions = new List<IFeedSubscription>();

        // Each change is acted on as soon as the registering publish returns: the first reading is then in history,
        // up to the subscription's AttachedAfter, which is where a stream's replay from the first reading ends.
        foreach (var id in new[] { "plant/a", "other/a", "plant", "plant/b/c" })
        {
            var first = await harness.Engine.PublishAsync(id, 1, _time.GetUtcNow().UtcDateTime, SensorRegistration.ByServer, CancellationToken.None);
            while (watch.Changes.TryRead(out var change))
            {
                var subscription = Assert.IsAssignableFrom<IFeedSubscription>(await harness.Engine.SubscribeAsync(change.SensorId!, buffer, CancellationToken.None));
                subscriptions.Add(subscription);
                Assert.Equal(first.Reading!.Sequence, subscription.AttachedAfter);
                Assert.Equal([first.Reading], await harness.History.ReadAsync(change.SensorId!, 0, 10, CancellationToken.None));
            }
        }

        var reported = subscriptions.Count;
        Assert.Equal(2, reported);
        Assert.True(watch.Changes.Count == 0);
        foreach (var subscription in subscriptions)
            subscription.Dispose();
    }

    [Fact]
    public async Task AWatchReportsAddedAndRemovedInOrderAndNothingOutsideItsPrefix()
    {
        using var harness = new EngineHarness(time: _time);
        using var watch = await harness.Engine.WatchSensorsAsync("d/", CancellationToken.None);
        using var everything = await harness.Engine.WatchSensorsAsync("", CancellationToken.None);

        await PublishAsync(harness, "d/1", "alice");
        await PublishAsync(harness, "e/1", "alice");
        await harness.Engine.RegisterAsync(new SensorDescriptor("d/own", "Own", "simulated", null), CancellationToken.None);
        _time.Advance(s_idle);
        await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        Assert.Equal(
            [new(SensorChangeKind.Added, "d/1"), new(SensorChangeKind.Added, "d/own"), new(SensorChangeKind.Removed, "d/1")],
            Drain(watch));
        // In order per id; sensors removed by one sweep come in no particular order.
        var all = Drain(everything);
        Assert.Equal([new(SensorChangeKind.Added, "d/1"), new(SensorChangeKind.Added, "e/1"), new(SensorChangeKind.Added, "d/own")], all[..3]);
        Assert.Equal(["d/1", "e/1"], all[3..].Select(c => Assert.IsType<string>(c.SensorId)).Order(StringComparer.Ordinal));
        Assert.All(all[3..], c => Assert.Equal(SensorChangeKind.Removed, c.Kind));
    }

    [Fact]
    public async Task AWatchThatFallsBehindGetsOneResyncInPlaceOfWhatItLost()
    {
        using var harness = new EngineHarness(new FeedOptions { MaxSensors = 5_000 }, _time);
        using var watch = await harness.Engine.WatchSensorsAsync("", CancellationToken.None);

        for (var i = 0; i < SensorChangeQueue.DefaultCapacity + 10; i++)
            await harness.Engine.PublishAsync($"s/{i}", 1);

        var changes = Drain(watch);
        Assert.Equal(new SensorChange(SensorChangeKind.Resync, null), changes[0]);
        // The change that found the queue full is in the Resync (the reader lists the sensors again after reading it);
        // the nine after it are kept.
        Assert.Equal(9, changes.Count - 1);
        Assert.All(changes.Skip(1), c => Assert.Equal(SensorChangeKind.Added, c.Kind));
        Assert.True(changes.Count <= SensorChangeQueue.DefaultCapacity);
    }

    [Fact]
    public async Task WatchesAndSharedBuffersCompleteWhenTheServerStopsAndLaterOnesAreBornCompleted()
    {
        using var harness = new EngineHarness(time: _time);
        await harness.Engine.PublishAsync("s/1", 1);
        var watch = await harness.Engine.WatchSensorsAsync("s/", CancellationToken.None);
        var buffer = new SharedLiveBuffer(10);
        using var subscription = await harness.Engine.SubscribeAsync("s/1", buffer, CancellationToken.None);
        var reading = await harness.Engine.PublishAsync("s/1", 2, DateTime.UtcNow, CancellationToken.None);

        harness.Stop();

        await watch.Changes.Completion.WaitAsync(Timeouts.Default);
        Assert.True(buffer.Reader.TryRead(out var buffered));
        Assert.Equal(reading, buffered);
        await buffer.Reader.Completion.WaitAsync(Timeouts.Default);
        using var late = await harness.Engine.WatchSensorsAsync("s/", CancellationToken.None);
        Assert.False(await late.Changes.WaitToReadAsync().AsTask().WaitAsync(Timeouts.Default));
        var lateBuffer = new SharedLiveBuffer(10);
        using var lateSubscription = await harness.Engine.SubscribeAsync("s/1", lateBuffer, CancellationToken.None);
        Assert.True(lateBuffer.IsCompleted);
        watch.Dispose();
    }

    [Fact]
    public async Task ASharedSubscriptionDoesNotKeepItsSensorAndGetsNothingOnceItIsRemoved()
    {
        using var harness = new EngineHarness(time: _time);
        await PublishAsync(harness, "d/1", "alice");
        using var watch = await harness.Engine.WatchSensorsAsync("d/", CancellationToken.None);
        var buffer = new SharedLiveBuffer(10);
        using var shared = await harness.Engine.SubscribeAsync("d/1", buffer, CancellationToken.None);
        var subscriptions = harness.Engine.GetCounters().Subscriptions;

        _time.Advance(s_idle);
        Assert.Equal(1, await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None));
        // The same id again is a new sensor: the old one's shared subscriber hears nothing of it.
        await PublishAsync(harness, "d/1", "alice");

        Assert.Equal([new(SensorChangeKind.Removed, "d/1"), new(SensorChangeKind.Added, "d/1")], Drain(watch));
        Assert.False(buffer.Reader.TryRead(out _));
        Assert.False(buffer.IsCompleted);
        shared!.Dispose();
        Assert.Equal(subscriptions - 1, harness.Engine.GetCounters().Subscriptions);
    }

    [Fact]
    public async Task ASubscriberWithABufferOfItsOwnStillKeepsItsSensor()
    {
        using var harness = new EngineHarness(time: _time);
        await PublishAsync(harness, "d/1", "alice");
        using var shared = await harness.Engine.SubscribeAsync("d/1", new SharedLiveBuffer(10), CancellationToken.None);
        using var own = await harness.Engine.SubscribeAsync("d/1", LiveBufferMode.Queue, CancellationToken.None);

        _time.Advance(s_idle);
        await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);
        _time.Advance(s_idle);

        Assert.Equal(0, await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None));
    }

    [Fact]
    public async Task SensorsShareOneBufferInOrderPerSensorAndDisposingOneLeavesTheOthers()
    {
        using var harness = new EngineHarness(time: _time);
        await harness.Engine.PublishAsync("s/a", 1);
        await harness.Engine.PublishAsync("s/b", 1);
        var buffer = new SharedLiveBuffer(3);
        var a = (await harness.Engine.SubscribeAsync("s/a", buffer, CancellationToken.None))!;
        using var b = await harness.Engine.SubscribeAsync("s/b", buffer, CancellationToken.None);

        var fromA = await harness.Engine.PublishAsync("s/a", 3);
        var fromB = await harness.Engine.PublishAsync("s/b", 2);
        a.Dispose();
        var later = await harness.Engine.PublishAsync("s/a", 1);
        var lastOfB = await harness.Engine.PublishAsync("s/b", 1);

        // Three kept: the oldest went first, whichever sensor it was of.
        var kept = new List<Reading>();
        while (buffer.Reader.TryRead(out var reading))
            kept.Add(reading);
        Assert.Equal([fromB[0], fromB[1], lastOfB[0]], kept);
        Assert.DoesNotContain(later[0], kept);
        Assert.False(buffer.IsCompleted);
        Assert.NotEmpty(fromA);
    }

    private static List<SensorChange> Drain(ISensorWatch watch)
    {
        var changes = new List<SensorChange>();
        while (watch.Changes.TryRead(out var change))
            changes.Add(change);
        return changes;
    }

    private Task<PublishOutcome> PublishAsync(EngineHarness harness, string sensorId, string publisherId) =>
        harness.Engine.PublishAsync(sensorId, 1, _time.GetUtcNow().UtcDateTime, SensorRegistration.ByPublisher(publisherId), CancellationToken.None).AsTask();
}
