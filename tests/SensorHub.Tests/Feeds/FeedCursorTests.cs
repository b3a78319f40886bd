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
    public async Task EveryJumpOfTheLiveBufferIsFilledFromHistoryWhileHistoryHoldsTheSpan()
    {
        // The case: 30 in history, a buffer of 5; 20 arrive while the replay reads history, and 20 more
        // while the cursor fills the first jump. Numbering them 1 to 70, all 70 come, in order, none counted dropped.
        using var harness = new EngineHarness(new FeedOptions { SubscriberBufferCapacity = 5, ReplayPageSize = 8 });
        var history = await harness.Engine.PublishAsync("s", 30);
        // Pages of 8: reads 1 to 4 are the replay; read 5 is the first fill, after the live buffer jumped.
        var bursts = new PublishingHistory(harness, "s", burst: 20, atReads: [1, 5]);
        using var cursor = harness.Open("s", fromSequence: history[0].Sequence, history: bursts);

        var readings = await TakeAsync(cursor, 70);

        Assert.Equal([history[0].Sequence, history[^1].Sequence + 1], bursts.BurstAt);
        Assert.Equal(history[0].Sequence, readings[0].Sequence);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(70, readings.Count);
        Assert.Equal(0, harness.Engine.GetCounters().Dropped);
    }

    [Fact]
    public async Task SlowSubscriberGetsWhatHistoryStillHoldsAndSeesAJumpOnlyForWhatItLost()
    {
        using var harness = new EngineHarness(new FeedOptions { SubscriberBufferCapacity = 5, HistoryCapacity = 10 });
        await harness.Engine.PublishAsync("s", 1);
        using var cursor = harness.Open("s");

        var published = await harness.Engine.PublishAsync("s", 20);
        Assert.True(harness.Registry.TryGet("s", out var feed));
        Assert.Equal(5, feed.Subscribers[0].Live.Count);
        var readings = await TakeAsync(cursor, 10);

        // The buffer kept the newest 5 and history the newest 10: the first 10 are gone, and counted.
        Assert.Equal(published.Skip(10), readings);
        Assert.Equal(10, harness.Engine.GetCounters().Dropped);
    }

    [Fact]
    public async Task LiveOnlySubscriberWhoseBufferOverflowedBeforeItsFirstReadGetsEveryReadingSinceItAttached()
    {
        using var harness = new EngineHarness(new FeedOptions { SubscriberBufferCapacity = 3 });
        await harness.Engine.PublishAsync("s", 5);
        using var cursor = harness.Open("s");

        var published = await harness.Engine.PublishAsync("s", 12);
        var readings = await TakeAsync(cursor, 12);

        Assert.Equal(published, readings);
        Assert.Equal(0, harness.Engine.GetCounters().Dropped);
    }

    [Fact]
    public async Task AReplayCoversWhatHistoryHeldAtAttachAndWhatCameLaterIsPaced()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var harness = new EngineHarness(time: time);
        var history = await harness.Engine.PublishAsync("s", 300);
        // The live burst arrives while the replay reads its first page.
        var burst = new PublishingHistory(harness, "s", burst: 10, atReads: [1]);
        using var cursor = harness.Open("s", fromSequence: history[0].Sequence, maxRate: 2, history: burst);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var replay = await TakeAsync(cursor, 300);
        Assert.Equal(history, replay);

        // Without time passing, one live reading (the newest) and no more: the burst is live, not replay.
        Assert.True(await cursor.WaitToReadAsync(cts.Token));
        Assert.True(cursor.TryRead(out var first));
        Assert.Equal(history[^1].Sequence + 10, first.Sequence);
        await harness.Engine.PublishAsync("s", 10);
        Assert.False(cursor.TryRead(out _));
        var waiting = cursor.WaitToReadAsync(cts.Token).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(499));
        await Task.Delay(50, cts.Token);
        Assert.False(waiting.IsCompleted, "A live reading was allowed before its interval was over.");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await waiting.WaitAsync(Timeouts.Default));
        Assert.True(cursor.TryRead(out var second));
        Assert.Equal(first.Sequence + 10, second.Sequence);
        Assert.Equal(0, harness.Engine.GetCounters().Dropped);
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

    [Fact]
    public async Task APacedStreamWaitingForItsSlotSendsItsNewestAndCompletesWhenTheServerStops()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var harness = new EngineHarness(time: time);
        await harness.Engine.PublishAsync("s", 1);
        // One reading every 1,000 s: without the stop, the second would come a quarter of an hour later.
        using var cursor = harness.Open("s", maxRate: 0.001);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var first = await harness.Engine.PublishAsync("s", 1);
        Assert.Equal(first, await TakeAsync(cursor, 1));
        var newest = await harness.Engine.PublishAsync("s", 3);
        var waiting = TakeAsync(cursor, int.MaxValue);

        harness.Stop();

        Assert.Equal([newest[^1]], await waiting.WaitAsync(Timeouts.Default));
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

    /// <summary>History that publishes a burst of readings at the given reads (from 1), as if devices published while it was read.</summary>
    private sealed class PublishingHistory(EngineHarness harness, string sensorId, int burst, int[] atReads) : IReadingHistory
    {
        private int _reads;

        /// <summary>The <c>fromSequence</c> of each read that published a burst.</summary>
        public List<long> BurstAt { get; } = [];

        public async ValueTask<IReadOnlyList<Reading>> ReadAsync(string id, long fromSequence, int maxCount, CancellationToken cancellationToken)
        {
            var page = await harness.History.ReadAsync(id, fromSequence, maxCount, cancellationToken);
            if (atReads.Contains(++_reads))
            {
                BurstAt.Add(fromSequence);
                await harness.Engine.PublishAsync(sensorId, burst);
            }
            return page;
        }
    }
}
