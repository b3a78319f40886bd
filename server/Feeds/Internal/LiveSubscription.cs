namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A subscriber's live buffer on the in-memory engine: the sensor's publishers offer to it under the sensor's lock,
/// and its totals are its sensor kind's (read through the feed, whose kind may change when the server adopts it). A
/// shared one (<see cref="LiveBuffer.IsShared"/>) writes into a <c>SubscribeMany</c> stream's buffer instead.
/// </summary>
internal sealed class LiveSubscription : LiveBuffer
{
    private readonly SensorFeed _feed;

    public LiveSubscription(SensorFeed feed, LiveBufferMode mode, int capacity)
        : base(mode, capacity, singleWriter: false) => _feed = feed;

    /// <summary>A subscription of a <c>SubscribeMany</c> stream: it offers into <paramref name="shared"/>.</summary>
    public LiveSubscription(SensorFeed feed, SharedLiveBuffer shared)
        : base(shared) => _feed = feed;

    protected override void AddDelivered(long readings) => _feed.Totals.Delivered.Add(readings);

    protected override void AddReplayed(long readings) => _feed.Totals.Replayed.Add(readings);

    protected override void AddDropped(long readings) => _feed.Totals.CountDropped(readings);

    protected override void Detach() => _feed.Detach(this);
}
