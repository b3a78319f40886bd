namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A subscriber's live buffer on the in-memory engine: the sensor's publishers offer to it under the sensor's lock,
/// and its totals are the registry's.
/// </summary>
internal sealed class LiveSubscription(SensorFeed feed, LiveBufferMode mode, int capacity)
    : LiveBuffer(mode, capacity, singleWriter: false)
{
    private readonly SensorFeedRegistry _totals = feed.Registry;

    protected override void AddDelivered(long readings) => _totals.Delivered.Add(readings);

    protected override void AddDropped(long readings) => _totals.CountDropped(readings);

    protected override void Detach() => feed.Detach(this);
}
