using SensorHub.Contracts;
using SensorHub.Server.Feeds.Internal;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// One sensor's channel as one node follows it: subscribed once for all the node's subscribers to the sensor, while it
/// has some. Its messages are handled one at a time (<see cref="Gate"/>, shared with the position check), and each
/// reading is offered to every local subscriber under <see cref="_fanOut"/>, in sequence order, once.
/// </summary>
internal sealed class SensorChannel(string sensorId, RedisChannel channel)
{
    private readonly Lock _fanOut = new();
    private RedisLiveSubscription[] _subscribers = [];
    private int _own;
    private long _lastFanned = -1;

    public string SensorId { get; } = sensorId;

    public RedisChannel Channel { get; } = channel;

    /// <summary>
    /// The totals of the sensor's kind, where this node counts its subscribers' readings: read from Redis when the
    /// first subscriber attached (a sensor whose kind changes later, adopted by the server, keeps counting under the
    /// kind it had until the node leaves its channel). Set before any subscriber is attached.
    /// </summary>
    public KindTotals? Totals { get; set; }

    /// <summary>The subscription to the channel, complete once Redis confirmed it. Set by the router before anyone awaits it.</summary>
    public Task<ChannelMessageQueue> Subscribed { get; set; } = null!;

    /// <summary>Subscribers and subscribers on their way; guarded by the router's lock.</summary>
    public int Holders { get; set; }

    /// <summary>Left: a new subscriber makes a new one. Guarded by the router's lock.</summary>
    public bool Closed { get; set; }

    /// <summary>Held while a message or a position check is handled: one at a time, in order.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The newest sequence offered to the subscribers; -1 before the first.</summary>
    public long LastFanned => Volatile.Read(ref _lastFanned);

    /// <summary>The sensor's newest sequence in Redis at the position check before the last one (the stall guard).</summary>
    public long Observed { get; set; } = -1;

    public int Count => Volatile.Read(ref _subscribers).Length;

    /// <summary>
    /// Subscribers with a buffer of their own (<c>Subscribe</c>): only they keep the sensor from idle removal (the
    /// position check marks it seen for them); a <c>SubscribeMany</c> stream's shared buffer watches sensors, not one.
    /// </summary>
    public int OwnCount => Volatile.Read(ref _own);

    public RedisLiveSubscription[] Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>
    /// Attaches a subscriber once the channel is confirmed and the sensor's newest sequence <paramref name="newest"/>
    /// read after that: every reading up to it is in the stream. Readings the router already offered are in the stream
    /// too, so the subscriber's live part starts after the later of the two, and every reading after that reaches it.
    /// </summary>
    public void Attach(RedisLiveSubscription subscription, long newest)
    {
        lock (_fanOut)
        {
            if (_lastFanned < 0)
                _lastFanned = newest;
            subscription.AttachedAfter = Math.Max(newest, _lastFanned);
            _subscribers = [.. _subscribers, subscription];
            if (!subscription.IsShared)
                _own++;
        }
    }

    public bool Detach(RedisLiveSubscription subscription)
    {
        lock (_fanOut)
        {
            var index = Array.IndexOf(_subscribers, subscription);
            if (index < 0)
                return false;
            _subscribers = [.. _subscribers.AsSpan(0, index), .. _subscribers.AsSpan(index + 1)];
            if (!subscription.IsShared)
                _own--;
            return true;
        }
    }

    /// <summary>
    /// Takes off the channel the shared-buffer subscribers that attached to a sensor since removed, those whose
    /// <see cref="LiveBuffer.AttachedAfter"/> is below <paramref name="below"/>: nothing more reaches them (a sensor
    /// registered anew under the id is another sensor, which their streams subscribe to afresh; its subscribers attached
    /// at or above its first sequence minus one). They stay held until disposed. Returns how many were taken off.
    /// </summary>
    public int DetachShared(long below)
    {
        lock (_fanOut)
        {
            var kept = Array.FindAll(_subscribers, s => !s.IsShared || s.AttachedAfter >= below);
            var taken = _subscribers.Length - kept.Length;
            _subscribers = kept;
            return taken;
        }
    }

    /// <summary>Offers the readings newer than the last offered, in order; never waits for a subscriber.</summary>
    public void FanOut(IReadOnlyList<Reading> readings)
    {
        lock (_fanOut)
        {
            foreach (var reading in readings)
            {
                if (reading.Sequence <= _lastFanned)
                    continue;
                _lastFanned = reading.Sequence;
                foreach (var subscriber in _subscribers)
                    subscriber.Offer(reading);
            }
        }
    }

    public void CompleteAll()
    {
        lock (_fanOut)
        {
            foreach (var subscriber in _subscribers)
                subscriber.Complete();
        }
    }
}
