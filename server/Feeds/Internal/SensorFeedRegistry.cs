using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// The in-memory engine's sensors, shared by <see cref="InMemoryFeedEngine"/> and <see cref="InMemoryReadingHistory"/>:
/// who registered each, the caps on them, their order for pages, and the engine's running totals.
/// </summary>
/// <remarks>
/// <para>
/// Finding a sensor takes no lock. Every change of membership (a sensor registered, adopted by the server or removed
/// as idle) happens under one lock, <see cref="_membership"/>, together with the counts the caps compare against: that
/// is what makes the caps exact when publishers race for the last place. Membership changes are rare next to
/// readings, so one lock for them costs the hot path nothing.
/// </para>
/// <para>
/// Lock order: <see cref="_membership"/> before a feed's own lock, never the other way round (a publish holds only its
/// feed's lock, and takes <see cref="_membership"/> only when it registers, holding no other). A watch's queue has a
/// lock of its own, a leaf: taken under <see cref="_membership"/> to report a change, never holding another.
/// </para>
/// <para>
/// Watches (<see cref="IFeedEngine.WatchSensorsAsync"/>) hear of every change of membership under the same lock: a
/// sensor is reported added before the publish that registered it offers its first reading (that publish takes the
/// feed's lock only after this one is released), and removed once nothing can be published to it any more.
/// </para>
/// </remarks>
internal sealed class SensorFeedRegistry
{
    private readonly ConcurrentDictionary<string, SensorFeed> _feeds = new(StringComparer.Ordinal);
    private readonly Lock _membership = new();
    private readonly SortedSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byPublisher = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _historyCapacity;
    private readonly int _maxSensors;
    private readonly int _maxPerPublisher;
    private InMemorySensorWatch[] _watches = [];
    private bool _watchesCompleted;
    private int _count;
    private long _subscriptions;

    public SensorFeedRegistry(IOptions<FeedOptions> options, TimeProvider time)
        : this(options, time, new FeedTotals())
    {
    }

    public SensorFeedRegistry(IOptions<FeedOptions> options, TimeProvider time, FeedTotals totals)
    {
        Totals = totals;
        _time = time;
        _historyCapacity = options.Value.HistoryCapacity;
        _maxSensors = options.Value.MaxSensors;
        _maxPerPublisher = options.Value.MaxSensorsPerPublisher;
    }

    /// <summary>Every sensor now; enumerating it takes no lock and sees sensors added or removed meanwhile or not.</summary>
    public IEnumerable<SensorFeed> Feeds => _feeds.Select(pair => pair.Value);

    /// <summary>Sensors now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The engine's running totals by sensor kind: each feed counts into its kind's.</summary>
    public FeedTotals Totals { get; }

    /// <summary>Subscriptions attached now.</summary>
    public long Subscriptions => Volatile.Read(ref _subscriptions);

    public bool TryGet(string sensorId, [MaybeNullWhen(false)] out SensorFeed feed) => _feeds.TryGetValue(sensorId, out feed);

    /// <summary>Sensors <paramref name="publisherId"/> registered that are still here.</summary>
    public int CountOf(string publisherId)
    {
        lock (_membership)
            return _byPublisher.GetValueOrDefault(publisherId);
    }

    /// <summary>
    /// The sensor, registered as a <c>device</c> for <paramref name="publisherId"/> (the server when <see langword="null"/>)
    /// when it is unknown and the caps allow it: <see cref="PublishStatus.Published"/> when it was known,
    /// <see cref="PublishStatus.Registered"/> when it was added, or the cap that refused it (then no feed).
    /// </summary>
    public PublishStatus GetOrRegister(string sensorId, string? publisherId, out SensorFeed? feed)
    {
        lock (_membership)
        {
            if (_feeds.TryGetValue(sensorId, out feed))
                return PublishStatus.Published;
            if (_count >= _maxSensors)
                return PublishStatus.TooManySensors;
            if (publisherId is not null && _byPublisher.GetValueOrDefault(publisherId) >= _maxPerPublisher)
                return PublishStatus.TooManySensorsForPublisher;
            feed = Add(new SensorDescriptor(sensorId, sensorId, "device", null), publisherId);
            return PublishStatus.Registered;
        }
    }

    /// <summary>
    /// One of the server's own sensors: added whatever the caps, or, when known, given these fields and taken from the
    /// publisher that registered it (which no longer counts it, and it is no longer removed as idle).
    /// </summary>
    public SensorFeed RegisterOwn(SensorDescriptor descriptor, out bool added)
    {
        lock (_membership)
        {
            added = !_feeds.TryGetValue(descriptor.Id, out var feed);
            if (feed is null)
                return Add(descriptor, publisherId: null);
            if (feed.Registrar is { } publisherId)
            {
                Release(publisherId);
                feed.Registrar = null;
            }
            feed.SetDescriptor(descriptor, Totals.For(descriptor.Kind));
            return feed;
        }
    }

    /// <summary>
    /// Up to <paramref name="take"/> ids that start with <paramref name="prefix"/>, come after <paramref name="after"/>
    /// and pass <paramref name="visible"/>, in ordinal order. Walks only the ids from the start of the range on.
    /// </summary>
    public List<string> Page(string prefix, string? after, int take, Predicate<string>? visible)
    {
        var page = new List<string>(Math.Min(take, 64));
        var lower = after is not null && string.CompareOrdinal(after, prefix) > 0 ? after : prefix;
        lock (_membership)
        {
            if (_ids.Count == 0 || string.CompareOrdinal(lower, _ids.Max) > 0)
                return page;
            foreach (var id in _ids.GetViewBetween(lower, _ids.Max!))
            {
                // Ids that start with the prefix are contiguous in ordinal order, and the range starts at or after it.
                if (!id.StartsWith(prefix, StringComparison.Ordinal))
                    break;
                if (after is not null && string.CompareOrdinal(id, after) <= 0)
                    continue;
                if (visible is not null && !visible(id))
                    continue;
                page.Add(id);
                if (page.Count == take)
                    break;
            }
        }
        return page;
    }

    /// <summary>
    /// Removes the sensors publishers registered that have been idle (no reading, no subscriber) for
    /// <paramref name="idleFor"/> as far as the sweeps before this one saw; see <see cref="SensorFeed.TryRetireIdle"/>.
    /// </summary>
    /// <returns>The ids removed.</returns>
    public List<string> RemoveIdle(TimeSpan idleFor)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var removed = new List<string>();
        foreach (var (id, feed) in _feeds)
        {
            // Read without the lock to pass over the server's own sensors cheaply; decided again under it.
            if (feed.Registrar is null)
                continue;
            lock (_membership)
            {
                if (feed.Registrar is not { } publisherId || !feed.TryRetireIdle(now, idleFor.Ticks))
                    continue;
                _feeds.TryRemove(id, out _);
                _ids.Remove(id);
                _count--;
                Release(publisherId);
                foreach (var watch in _watches)
                    watch.Report(SensorChangeKind.Removed, id);
            }
            removed.Add(id);
        }
        return removed;
    }

    /// <summary>
    /// A new watch on the ids that start with <paramref name="prefix"/>, completed at once when the server is stopping
    /// (<paramref name="completed"/>, or <see cref="CompleteWatches"/> already ran): decided under the lock, so none slips
    /// in while the watches complete.
    /// </summary>
    public InMemorySensorWatch Watch(string prefix, bool completed)
    {
        var watch = new InMemorySensorWatch(this, prefix);
        lock (_membership)
        {
            if (completed || _watchesCompleted)
                watch.Complete();
            else
                _watches = [.. _watches, watch];
        }
        return watch;
    }

    public void Unwatch(InMemorySensorWatch watch)
    {
        lock (_membership)
        {
            var index = Array.IndexOf(_watches, watch);
            if (index >= 0)
                _watches = [.. _watches.AsSpan(0, index), .. _watches.AsSpan(index + 1)];
        }
    }

    /// <summary>Ends every watch's changes after what they hold (the server stops), and every later watch's at once.</summary>
    public void CompleteWatches()
    {
        lock (_membership)
        {
            _watchesCompleted = true;
            foreach (var watch in _watches)
                watch.Complete();
        }
    }

    public void Attached() => Interlocked.Increment(ref _subscriptions);

    public void Detached() => Interlocked.Decrement(ref _subscriptions);

    private SensorFeed Add(SensorDescriptor descriptor, string? publisherId)
    {
        var now = _time.GetUtcNow();
        var feed = new SensorFeed(descriptor, publisherId, FirstSequence(now), now.UtcTicks, _historyCapacity, this, Totals.For(descriptor.Kind));
        _feeds[descriptor.Id] = feed;
        _ids.Add(descriptor.Id);
        _count++;
        if (publisherId is not null)
            _byPublisher[publisherId] = _byPublisher.GetValueOrDefault(publisherId) + 1;
        foreach (var watch in _watches)
            watch.Report(SensorChangeKind.Added, descriptor.Id);
        return feed;
    }

    private void Release(string publisherId)
    {
        var left = _byPublisher[publisherId] - 1;
        if (left == 0)
            _byPublisher.Remove(publisherId);
        else
            _byPublisher[publisherId] = left;
    }

    /// <summary>
    /// A sensor's first sequence is the microseconds since 1970 at the moment this process first sees it. The
    /// in-memory engine keeps nothing across restarts, so this clock-derived base is what keeps a restarted server
    /// above every sequence it issued before (as long as no sensor averaged over a million readings a second), and it
    /// stays below 2^53 until the year 2255, so JavaScript reads every sequence exactly. A sensor removed as idle and
    /// registered again starts above its old numbering in the same way.
    /// </summary>
    private static long FirstSequence(DateTimeOffset now) => now.ToUnixTimeMilliseconds() * 1000;
}
