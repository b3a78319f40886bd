using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

public sealed class FeedCursorTests
{
    [Fact]
    public async Task ReplayReadsHistoryInPagesAndThenGoesLive()
    {
        using var harness = new EngineHarness(new FeedOptions { ReplayPageSize = 7 });
        var history = await harness.Engine.PublishAsync("s", 50);
        using var cursor = harness.Open("s", fromSequence: history[3].Sequence);

        var replayed = await TakeAsync(cursor, 47);
        var live = await harness.Engine.PublishAsync("s", 5);
        var tail = await TakeAsync(cursor, 5);

        Assert.Equal(history.Skip(3), replayed);
        Assert.Equal(live, tail);
    }

    [Fact]
    public async Task SeamIsFilledFromHistoryWhenTheLiveBufferOverflowedDuringTheReplay()
    {
        using var harness = new EngineHarness(new FeedOptions { SubscriberBufferCapacity = 5 });
        var history = await harness.Engine.PublishAsync("s", 30);
        // While the replay reads its last (empty) page, 20 readings arrive: the live buffer of 5 keeps only the last 5.
        var burst = new PublishingHistory(harness, "s", 20);
        using var cursor = harness.Open("s", fromSequence: history[0].Sequence, history: burst);

        var readings = await TakeAsync(cursor, 50);

        Assert.True(burst.Published);
        Assert.Equal(history[0].Sequence, readings[0].Sequence);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(history[^1].Sequence + 20, readings[^1].Sequence);
    }

    [Fact]
    public async Task SlowSubscriberLosesItsOldestReadingsAndSeesTheJump()
    {
        using var harness = new EngineHarness(new FeedOptions { SubscriberBufferCapacity = 5 });
        await harness.Engine.PublishAsync("s", 1);
        using var cursor = harness.Open("s");

        var published = await harness.Engine.PublishAsync("s", 20);
        Assert.True(harness.Registry.TryGet("s", out var feed));
        Assert.Equal(5, feed.Subscribers[0].Live.Count);
        var readings = await TakeAsync(cursor, 5);

        Assert.Equal(published.Skip(15), readings);
        Assert.Equal(15, harness.Engine.GetCounters().Dropped);
    }

    [Fact]
    public async Task MaxRateSendsTheNewestReadingOncePerInterval()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var harness = new EngineHarness(time: time);
        await harness.Engine.PublishAsync("s", 1);
        using var cursor = harness.Open("s", maxRate: 10);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var first = await harness.Engine.PublishAsync("s", 5);
        Assert.True(await cursor.WaitToReadAsync(cts.Token));
        Assert.True(cursor.TryRead(out var reading));
        Assert.Equal(first[^1], reading);
        Assert.False(cursor.TryRead(out _));

        var second = await harness.Engine.PublishAsync("s", 5);
        var waiting = cursor.WaitToReadAsync(cts.Token).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(99));
        await Task.Delay(50, cts.Token);
        Assert.False(waiting.IsCompleted, "The next reading was allowed before its interval was over.");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await waiting.WaitAsync(Timeouts.Default));
        Assert.True(cursor.TryRead(out reading));
        Assert.Equal(second[^1], reading);
        Assert.Equal(0, harness.Engine.GetCounters().Dropped);
    }

    [Fact]
    public async Task ShutdownCompletesTheLiveBufferAfterWhatItHolds()
    {
        using var harness = new EngineHarness();
        await harness.Engine.PublishAsync("s", 1);
        using var cursor = harness.Open("s");
        var published = await harness.Engine.PublishAsync("s", 3);

        harness.Stop();

        Assert.Equal(published, await TakeAsync(cursor, int.MaxValue));
        using var late = harness.Engine.Subscribe("s", LiveBufferMode.Queue);
        Assert.True(late!.Live.Completion.IsCompleted, "A subscription opened during shutdown was left open.");
    }

    /// <summary>Reads until <paramref name="count"/> readings or the end of the feed.</summary>
    private static async Task<List<Reading>> TakeAsync(FeedCursor cursor, int count)
    {
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var readings = new List<Reading>();
        while (readings.Count < count && await cursor.WaitToReadAsync(cts.Token))
        {
            while (readings.Count < count && cursor.TryRead(out var reading))
                readings.Add(reading);
        }
        return readings;
    }

    /// <summary>History that publishes a burst the first time a replay finds nothing more to read.</summary>
    private sealed class PublishingHistory(EngineHarness harness, string sensorId, int burst) : IReadingHistory
    {
        public bool Published { get; private set; }

        public async ValueTask<IReadOnlyList<Reading>> ReadAsync(string id, long fromSequence, int maxCount, CancellationToken cancellationToken)
        {
            var page = await harness.History.ReadAsync(id, fromSequence, maxCount, cancellationToken);
            if (page.Count == 0 && !Published)
            {
                Published = true;
                await harness.Engine.PublishAsync(sensorId, burst);
            }
            return page;
        }
    }
}
