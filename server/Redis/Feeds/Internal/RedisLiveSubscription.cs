using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// A subscriber's live buffer on a Redis node: the node's router offers each reading of the sensor's channel to it,
/// one message at a time, and never waits. Its readings count under its sensor kind's totals on this node. Ends with the router's error when the node gives up on Redis, so that the
/// stream ends with it.
/// </summary>
internal sealed class RedisLiveSubscription(RedisFeedRouter router, SensorChannel channel, LiveBufferMode mode, int capacity)
    : LiveBuffer(mode, capacity, singleWriter: true)
{
    private CancellationTokenRegistration _onLost;

    /// <summary>Ends the stream with <paramref name="lost"/>'s error once its buffer is read, when the node gives up on Redis.</summary>
    public void EndOn(CancellationToken lost) =>
        _onLost = lost.UnsafeRegister(static state => ((RedisLiveSubscription)state!).Fail(), this);

    private void Fail() => Fail(router.Availability.Unavailable());

    private readonly KindTotals _totals = channel.Totals!;

    protected override void AddDelivered(long readings) => _totals.Delivered.Add(readings);

    protected override void AddReplayed(long readings) => _totals.Replayed.Add(readings);

    protected override void AddDropped(long readings) => _totals.CountDropped(readings);

    protected override void Detach()
    {
        _onLost.Dispose();
        router.Detach(channel, this);
    }
}
