using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// One sensor in the in-memory engine: its sequence, history and live subscribers. Publishing, attaching and
/// reading history share one lock, which is what makes a replay's seam exact: a reading is either in history
/// when a subscriber attaches, or offered to its buffer afterwards.
/// </summary>
internal sealed class SensorFeed
{
    private readonly Lock _gate = new();
    private readonly HistoryRing _history;
    private readonly SensorFeedRegistry _registry;
    private LiveSubscription[] _subscribers = [];
    private SensorDescriptor _descriptor;
    private readonly long _firstSequence;
    private long _lastSequence;
    private Reading? _newest;
    private bool _completed;

    public SensorFeed(SensorDescriptor descriptor, long firstSequence, int historyCapacity, SensorFeedRegistry registry)
    {
        _descriptor = descriptor;
        _firstSequence = firstSequence;
        _lastSequence = firstSequence - 1;
        _history = new HistoryRing(historyCapacity);
        _registry = registry;
    }

    public string Id => _descriptor.Id;

    /// <summary>The subscribers now attached; the array is replaced, never changed, so it can be read without the lock.</summary>
    public LiveSubscription[] Subscribers => Volatile.Read(ref _subscribers);

    public void SetDescriptor(SensorDescriptor descriptor)
    {
        lock (_gate)
            _descriptor = descriptor;
    }

    public Reading Publish(double value, DateTime timestampUtc)
    {
        lock (_gate)
        {
            var reading = new Reading
            {
                SensorId = _descriptor.Id,
                Sequence = ++_lastSequence,
                Timestamp = timestampUtc,
                Value = value,
            };
            _history.Add(reading);
            _newest = reading;
            // Offering under the lock keeps each subscriber's buffer in sequence order when devices publish
            // to one sensor concurrently. Offer never waits: a full buffer drops its oldest reading.
            foreach (var subscriber in _subscribers)
                subscriber.Offer(reading);
            return reading;
        }
    }

    /// <summary>
    /// A new subscriber, completed at once when the server is stopping (<paramref name="completed"/>, or
    /// <see cref="CompleteAll"/> already ran): decided under the lock, so none slips in while the feed completes.
    /// </summary>
    public LiveSubscription Attach(LiveBufferMode mode, int capacity, bool completed)
    {
        var subscription = new LiveSubscription(this, mode, capacity);
        lock (_gate)
        {
            subscription.AttachedAfter = _lastSequence;
            if (completed || _completed)
                subscription.Complete();
            else
                _subscribers = [.. _subscribers, subscription];
        }
        return subscription;
    }

    /// <summary>Ends every subscriber's stream after what it has buffered, and every later subscriber's at once.</summary>
    public void CompleteAll()
    {
        lock (_gate)
        {
            _completed = true;
            foreach (var subscriber in _subscribers)
                subscriber.Complete();
        }
    }

    public void Detach(LiveSubscription subscription)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_subscribers, subscription);
            if (index >= 0)
                _subscribers = [.. _subscribers.AsSpan(0, index), .. _subscribers.AsSpan(index + 1)];
        }
        // Also one that was completed at once and never attached: its replayed readings count as delivered.
        _registry.Retire(subscription);
    }

    public Reading[] ReadHistory(long fromSequence, int maxCount)
    {
        lock (_gate)
            return _history.Read(fromSequence, maxCount);
    }

    public SensorInfo ToSensorInfo()
    {
        lock (_gate)
        {
            return new SensorInfo
            {
                Id = _descriptor.Id,
                Name = _descriptor.Name,
                Kind = _descriptor.Kind,
                Unit = _descriptor.Unit,
                FirstSequence = _firstSequence,
                LastSequence = _newest?.Sequence ?? 0,
                LastValue = _newest?.Value,
                LastTimestamp = _newest?.Timestamp,
            };
        }
    }
}
