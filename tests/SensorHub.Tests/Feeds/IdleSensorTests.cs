using Microsoft.Extensions.Time.Testing;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>The engine's removal of idle sensors: which go, when, with what, and what stays.</summary>
public sealed class IdleSensorTests
{
    private static readonly TimeSpan s_idle = TimeSpan.FromDays(7);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ADeviceSensorGoesWithItsHistoryOnceIdleForTheTimeoutNotBefore()
    {
        using var harness = new EngineHarness(time: _time);
        var published = await PublishAsync(harness, "d/1", "alice");
        await PublishAsync(harness, "d/keep", "alice");
        var before = harness.Engine.GetCounters().Sensors;

        _time.Advance(s_idle - TimeSpan.FromTicks(1));
        var early = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);
        await PublishAsync(harness, "d/keep", "alice");
        _time.Advance(TimeSpan.FromTicks(1));
        var due = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        Assert.Equal((0, 1), (early, due));
        Assert.Null(await harness.Engine.FindSensorAsync("d/1", CancellationToken.None));
        Assert.Empty(await harness.History.ReadAsync("d/1", 0, 10, CancellationToken.None));
        Assert.Null(harness.Engine.Subscribe("d/1", LiveBufferMode.Queue));
        Assert.Equal(before - 1, harness.Engine.GetCounters().Sensors);
        Assert.Equal(1, harness.Registry.CountOf("alice"));
        Assert.DoesNotContain(
            (await harness.Engine.ListSensorsAsync("", null, 10, null, CancellationToken.None)).Sensors, s => s.Id == published.Reading!.SensorId);
    }

    [Fact]
    public async Task AReadingStartsTheQuietTimeAgainAsFromTheSweepThatSawIt()
    {
        using var harness = new EngineHarness(time: _time);
        await PublishAsync(harness, "d/1", "alice");

        _time.Advance(TimeSpan.FromDays(3));
        await PublishAsync(harness, "d/1", "alice");
        _time.Advance(TimeSpan.FromDays(1));
        // This sweep sees the reading of day 3: quiet since day 4 as far as it can tell.
        Assert.Equal(0, await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None));
        _time.Advance(s_idle - TimeSpan.FromTicks(1));
        var early = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);
        _time.Advance(TimeSpan.FromTicks(1));
        var due = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        Assert.Equal((0, 1), (early, due));
    }

    [Fact]
    public async Task ASensorWithASubscriberIsNotIdleAndItsQuietTimeStartsWhenTheLastOneGoes()
    {
        using var harness = new EngineHarness(time: _time);
        await PublishAsync(harness, "d/1", "alice");
        var subscription = harness.Engine.Subscribe("d/1", LiveBufferMode.Queue)!;

        _time.Advance(TimeSpan.FromDays(30));
        var whileSubscribed = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);
        subscription.Dispose();
        _time.Advance(s_idle - TimeSpan.FromTicks(1));
        var early = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);
        _time.Advance(TimeSpan.FromTicks(1));
        var due = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        Assert.Equal((0, 0, 1), (whileSubscribed, early, due));
    }

    [Fact]
    public async Task ASubscriberThatCameAndWentBetweenTwoSweepsCountsAsActivity()
    {
        using var harness = new EngineHarness(time: _time);
        await PublishAsync(harness, "d/1", "alice");

        _time.Advance(TimeSpan.FromDays(6));
        harness.Engine.Subscribe("d/1", LiveBufferMode.Latest)!.Dispose();
        _time.Advance(TimeSpan.FromDays(1));
        var watched = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);
        _time.Advance(s_idle);
        var due = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        Assert.Equal((0, 1), (watched, due));
    }

    [Fact]
    public async Task TheServersOwnSensorsAreNeverRemoved()
    {
        using var harness = new EngineHarness(time: _time);
        await harness.Engine.RegisterAsync(new SensorDescriptor("own/configured", "own", "simulated", null), CancellationToken.None);
        await harness.Engine.PublishAsync("own/published", 1, _time.GetUtcNow().UtcDateTime, SensorRegistration.ByServer, CancellationToken.None);
        await PublishAsync(harness, "own/adopted", "alice");
        await harness.Engine.RegisterAsync(new SensorDescriptor("own/adopted", "adopted", "simulated", null), CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(365));
        var removed = await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        Assert.Equal(0, removed);
        Assert.Equal(3, harness.Engine.GetCounters().Sensors);
    }

    [Fact]
    public async Task ARemovedSensorsIdRegistersANewSensorNumberedAboveTheOld()
    {
        using var harness = new EngineHarness(new FeedOptions { MaxSensorsPerPublisher = 1 }, _time);
        var old = await PublishAsync(harness, "d/1", "alice");
        _time.Advance(s_idle);
        Assert.Equal(1, await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None));

        // Alice's place is free again too: the cap counts sensors that are still here.
        var again = await PublishAsync(harness, "d/1", "bob");
        var alices = await PublishAsync(harness, "d/2", "alice");

        Assert.Equal((PublishStatus.Registered, PublishStatus.Registered), (again.Status, alices.Status));
        Assert.True(again.Reading!.Sequence > old.Reading!.Sequence);
        var sensor = await harness.Engine.FindSensorAsync("d/1", CancellationToken.None);
        Assert.True(sensor!.FirstSequence > old.Reading.Sequence);
    }

    [Fact]
    public async Task AFeedRemovedAsIdleTakesNoReadingAndNoSubscriberAndTheEngineRegistersItAnew()
    {
        using var harness = new EngineHarness(time: _time);
        await PublishAsync(harness, "d/1", "alice");
        Assert.True(harness.Registry.TryGet("d/1", out var removedFeed));
        _time.Advance(s_idle);
        await harness.Engine.RemoveIdleSensorsAsync(s_idle, CancellationToken.None);

        // A publisher or subscriber that found the feed just before it went: the feed itself refuses them.
        Assert.Null(removedFeed.Publish(1, _time.GetUtcNow().UtcDateTime));
        Assert.Null(removedFeed.Attach(LiveBufferMode.Queue, 10, completed: false));
        var next = await PublishAsync(harness, "d/1", "alice");

        Assert.Equal(PublishStatus.Registered, next.Status);
        Assert.True(harness.Registry.TryGet("d/1", out var feed));
        Assert.NotSame(removedFeed, feed);
    }

    private Task<PublishOutcome> PublishAsync(EngineHarness harness, string sensorId, string publisherId) =>
        harness.Engine.PublishAsync(sensorId, 1, _time.GetUtcNow().UtcDateTime, SensorRegistration.ByPublisher(publisherId), CancellationToken.None).AsTask();
}
