using Microsoft.Extensions.Options;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;

namespace SensorHub.Tests.Feeds;

/// <summary>How one sensor's feed ends its subscribers when the server stops, and what it counts when they go.</summary>
public sealed class SensorFeedTests
{
    private readonly SensorFeedRegistry _registry = new(Options.Create(new FeedOptions()), TimeProvider.System);

    [Fact]
    public async Task CompleteAllEndsEveryStreamAfterWhatItBufferedAndEveryLaterOneAtOnce()
    {
        var feed = NewFeed();
        using var early = feed.Attach(LiveBufferMode.Queue, capacity: 10, completed: false)!;
        var buffered = feed.Publish(1, DateTime.UtcNow);

        feed.CompleteAll();
        // The engine's own stopping flag was read as false before CompleteAll ran: the feed still completes it.
        using var late = feed.Attach(LiveBufferMode.Queue, capacity: 10, completed: false)!;

        Assert.True(early.Live.TryRead(out var read));
        Assert.Same(buffered, read);
        await early.Live.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        await late.Live.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        // The early one stays attached until its stream disposes it; the late one never was.
        Assert.Same(early, Assert.Single(feed.Subscribers));
    }

    [Fact]
    public void ASubscriberCompletedAtOnceStillCountsWhatItDeliveredOnce()
    {
        var feed = NewFeed();
        var subscription = feed.Attach(LiveBufferMode.Queue, capacity: 10, completed: true)!;
        subscription.CountDelivered(3);
        var whileOpen = _registry.Totals.Delivered;

        subscription.Dispose();

        // Counted as it was delivered, and not again when the subscription went: the totals are running ones.
        Assert.Equal((3, 3), (whileOpen, _registry.Totals.Delivered));
        Assert.Equal(0, _registry.Subscriptions);
    }

    private SensorFeed NewFeed() => _registry.RegisterOwn(new SensorDescriptor($"test/{Guid.NewGuid():N}", "t", "test", null), out _);
}
