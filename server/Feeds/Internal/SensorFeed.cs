using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// One sensor in the in-memory engine: its sequence, history and live subscribers. Publishing, attaching and
/// reading history share one lock, which is what makes a replay's seam exact: a reading is either in history
/// when a subscriber attaches, or offered to its buffer afterwards. The same lock decides that an idle sensor goes:
/// once removed, it takes no reading and no subscriber, so nothing is published into a sensor no one can see.
/// </summary>
internal sealed class SensorFeed
{
    private readonly Lock _gate = new();
    private readonly HistoryRing _history;
    private readonly SensorFeedRegistry _registry;
    private KindTotals _totals;
    private LiveSubscription[] _subscribers = [];
    // Subscribers with a buffer of their own: only they keep the sensor from idle removal (a SubscribeMany stream's
    // shared ones watch a pattern, not this sensor).
    private int _ownSubscribers;
    private SensorDescriptor _descriptor;
    private readonly long _firstSequence;
    private long _lastSequence;
    private Reading? _newest;
    private bool _completed;
    private bool _removed;
    // The idle sweep's view: the newest sequence it saw and since when it saw nothing new (changed only by
    // TryRetireIdle), and whether a subscriber attached since it last looked (one that came and went in between counts).
    private long _sweptSequence;
    private long _quietSinceTicks;
    private bool _watchedSinceSweep;

    /// <param name="descriptor">Its fields.</param>
    /// <param name="registrar">The publisher that registered it; <see langword="null"/>: the server.</param>
    /// <param name="firstSequence">The sequence its first reading gets.</param>
    /// <param name="createdTicks">When it was registered (UTC ticks).</param>
    /// <param name="historyCapacity">Readings kept.</param>
    /// <param name="registry">The registry that holds it.</param>
    /// <param name="totals">Its kind's totals, where its readings are counted.</param>
    public SensorFeed(
        SensorDescriptor descriptor, string? registrar, long firstSequence, long createdTicks, int historyCapacity, SensorFeedRegistry registry,
        KindTotals totals)
    {
        _descriptor = descriptor;
        _totals = totals;
        Registrar = registrar;
        _firstSequence = firstSequence;
        _lastSequence = firstSequence - 1;
        _history = new HistoryRing(historyCapacity);
        _registry = registry;
        // A registering publish follows at once: a sensor whose only reading is that one has been quiet since now.
        _sweptSequence = firstSequence;
        _quietSinceTicks = createdTicks;
    }

    public string Id => _descriptor.Id;

    /// <summary>The publisher that registered it, whose cap counts it; <see langword="null"/> for the server's own. Changed under the registry's membership lock.</summary>
    public string? Registrar { get; set; }

    /// <summary>Its kind's totals: where its published, delivered, replayed and dropped readings are counted.</summary>
    public KindTotals Totals => Volatile.Read(ref _totals);

    /// <summary>The subscribers now attached; the array is replaced, never changed, so it can be read without the lock.</summary>
    public LiveSubscription[] Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>New fields; from now on its readings count under <paramref name="totals"/> (its kind may have changed).</summary>
    public void SetDescriptor(SensorDescriptor descriptor, KindTotals totals)
    {
        lock (_gate)
        {
            _descriptor = descriptor;
            Volatile.Write(ref _totals, totals);
        }
    }

    /// <summary>Publishes the next reading; <see langword="null"/> when the sensor was removed meanwhile (look it up again).</summary>
    public Reading? Publish(double value, DateTime timestampUtc)
    {
        lock (_gate)
        {
            if (_removed)
                return null;
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
    /// <see langword="null"/> when the sensor was removed meanwhile: it is unknown now.
    /// </summary>
    public LiveSubscription? Attach(LiveBufferMode mode, int capacity, bool completed) =>
        Attach(new LiveSubscription(this, mode, capacity), completed);

    /// <summary>
    /// A new subscriber of a <c>SubscribeMany</c> stream, offering into <paramref name="shared"/>; as the other
    /// <see cref="Attach(LiveBufferMode, int, bool)"/>, but it does not keep the sensor from idle removal. Completed at
    /// once when stopping, which completes the shared buffer: the whole stream ends, as every other one does then.
    /// </summary>
    public LiveSubscription? Attach(SharedLiveBuffer shared, bool completed) =>
        Attach(new LiveSubscription(this, shared), completed);

    private LiveSubscription? Attach(LiveSubscription subscription, bool completed)
    {
        lock (_gate)
        {
            if (_removed)
                return null;
            subscription.AttachedAfter = _lastSequence;
            if (completed || _completed)
            {
                subscription.Complete();
            }
            else
            {
                _subscribers = [.. _subscribers, subscription];
                if (!subscription.IsShared)
                {
                    _ownSubscribers++;
                    _watchedSinceSweep = true;
                }
                _registry.Attached();
            }
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
            if (index < 0)
                return;
            _subscribers = [.. _subscribers.AsSpan(0, index), .. _subscribers.AsSpan(index + 1)];
            if (!subscription.IsShared)
                _ownSubscribers--;
            _registry.Detached();
        }
    }

    public Reading[] ReadHistory(long fromSequence, int maxCount)
    {
        lock (_gate)
            return _history.Read(fromSequence, maxCount);
    }

    /// <summary>
    /// One step of the idle sweep, called under the registry's membership lock: a new reading or a subscriber with a
    /// buffer of its own (now, or one that came and went; a <c>SubscribeMany</c> stream's shared one does not count) since the last step starts the quiet time again from <paramref name="nowTicks"/>; quiet
    /// for <paramref name="idleTicks"/> or more, the sensor is marked removed (no reading or subscriber gets in any more)
    /// and <see langword="true"/> says the registry may drop it. The sweep learns of readings only when it looks, so a
    /// sensor goes at most two sweep intervals late, never early.
    /// </summary>
    public bool TryRetireIdle(long nowTicks, long idleTicks)
    {
        lock (_gate)
        {
            if (_ownSubscribers > 0 || _watchedSinceSweep || _lastSequence != _sweptSequence)
            {
                _watchedSinceSweep = false;
                _sweptSequence = _lastSequence;
                _quietSinceTicks = nowTicks;
                return false;
            }
            if (nowTicks - _quietSinceTicks < idleTicks)
                return false;
            _removed = true;
            return true;
        }
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
