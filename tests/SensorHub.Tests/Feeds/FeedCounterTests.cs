using Microsoft.Extensions.Time.Testing;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// The engine's counters are running totals: exact while many readers count at once, each reading counted once (not
/// again when its subscription goes), and sensors and subscriptions counted as they come and go.
/// </summary>
public sealed class FeedCounterTests
{
    [Fact]
    public async Task DeliveredAndDroppedAreExactWhileReadersOnEveryCoreCountAtOnce()
    {
        const int readers = 16, each = 50_000;
        using var harness = new EngineHarness();
        await harness.Engine.PublishAsync("s", 1);
        var subscriptions = Enumerable.Range(0, readers).Select(_ => harness.Engine.Subscribe("s", LiveBufferMode.Queue)!).ToList();
        using var start = new Barrier(readers);

        await Task.WhenAll(subscriptions.Select(subscription => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (var i = 0; i < each; i++)
                {
                    subscription.CountDelivered(1);
                    if (i % 10 == 0)
                        subscription.CountDropped(2);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));
        var whileOpen = harness.Engine.GetCounters();
        foreach (var subscription in subscriptions)
            subscription.Dispose();
        var afterwards = harness.Engine.GetCounters();

        Assert.Equal((readers * (long)each, readers * (each / 10) * 2L, readers), (whileOpen.Delivered, whileOpen.Dropped, whileOpen.Subscriptions));
        // Nothing is added when a subscription goes: each reading was counted once, as it was delivered.
        Assert.Equal((whileOpen.Delivered, whileOpen.Dropped, 0L), (afterwards.Delivered, afterwards.Dropped, afterwards.Subscriptions));
    }

    [Fact]
    public async Task SensorsAndSubscriptionsAreCountedAsTheyComeAndGo()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        using var harness = new EngineHarness(time: time);
        await harness.Engine.RegisterAsync(new SensorDescriptor("own", "own", "simulated", null), CancellationToken.None);
        await harness.Engine.PublishAsync("d/1", 1, time.GetUtcNow().UtcDateTime, SensorRegistration.ByPublisher("alice"), CancellationToken.None);
        await harness.Engine.PublishAsync("d/2", 1, time.GetUtcNow().UtcDateTime, SensorRegistration.ByPublisher("alice"), CancellationToken.None);
        var first = harness.Engine.Subscribe("own", LiveBufferMode.Queue)!;
        var second = harness.Engine.Subscribe("d/1", LiveBufferMode.Latest)!;
        var counted = harness.Engine.GetCounters();

        second.Dispose();
        second.Dispose();
        time.Advance(TimeSpan.FromDays(7));
        await harness.Engine.RemoveIdleSensorsAsync(TimeSpan.FromDays(7), CancellationToken.None);
        harness.Stop();
        // Born completed at the stop: never attached, never counted.
        using var late = harness.Engine.Subscribe("own", LiveBufferMode.Queue)!;
        var after = harness.Engine.GetCounters();
        first.Dispose();

        Assert.Equal((3L, 2L, 2L), (counted.Sensors, counted.Subscriptions, counted.Published));
        // d/2 went as idle; d/1 stays for now, as a subscriber came and went since the sweep before.
        Assert.Equal((2L, 1L), (after.Sensors, after.Subscriptions));
        Assert.Equal(0, harness.Engine.GetCounters().Subscriptions);
    }
}
