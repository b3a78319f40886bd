using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// A subscriber's live buffer on a Redis node: the node's router offers each reading of the sensor's channel to it,
/// one message at a time, and never waits. Its readings count under its sensor kind's totals on this node. Ends with
/// the router's error when the node gives up on Redis, so that the stream ends with it. A <c>SubscribeMany</c>
/// stream's subscription writes into the stream's <see cref="SharedLiveBuffer"/> instead of a buffer of its own
/// (<see cref="LiveBuffer.IsShared"/>): it shares the channel with the node's other subscribers to the sensor, and
/// does not mark the sensor seen.
/// </summary>
internal sealed class RedisLiveSubscription : LiveBuffer
{
    private readonly RedisFeedRouter _router;
    private readonly SensorChannel _channel;
    private readonly KindTotals _totals;
    private CancellationTokenRegistration _onLost;

    public RedisLiveSubscription(RedisFeedRouter router, SensorChannel channel, LiveBufferMode mode, int capacity)
        : base(mode, capacity, singleWriter: true) =>
        (_router, _channel, _totals) = (router, channel, channel.Totals!);

    public RedisLiveSubscription(RedisFeedRouter router, SensorChannel channel, SharedLiveBuffer buffer)
        : base(buffer) =>
        (_router, _channel, _totals) = (router, channel, channel.Totals!);

    /// <summary>Ends the stream with <paramref name="lost"/>'s error once its buffer is read, when the node gives up on Redis.</summary>
    public void EndOn(CancellationToken lost) =>
        _onLost = lost.UnsafeRegister(static state => ((RedisLiveSubscription)state!).Fail(), this);

    private void Fail() => Fail(_router.Availability.Unavailable());

    protected override void AddDelivered(long readings) => _totals.Delivered.Add(readings);

    protected override void AddReplayed(long readings) => _totals.Replayed.Add(readings);

    protected override void AddDropped(long readings) => _totals.CountDropped(readings);

    protected override void Detach()
    {
        _onLost.Dispose();
        _router.Detach(_channel, this);
    }
}
