namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A subscriber's live buffer on the in-memory engine: the sensor's publishers offer to it under the sensor's lock,
/// and its totals are its sensor kind's (read through the feed, whose kind may change when the server adopts it).
/// </summary>
internal sealed class LiveSubscription(SensorFeed feed, LiveBufferMode mode, int capacity)
    : LiveBuffer(mode, capacity, singleWriter: false)
{
    protected override void AddDelivered(long readings) => feed.Totals.Delivered.Add(readings);

    protected override void AddReplayed(long readings) => feed.Totals.Replayed.Add(readings);

    protected override void AddDropped(long readings) => feed.Totals.CountDropped(readings);

    protected override void Detach() => feed.Detach(this);
}
