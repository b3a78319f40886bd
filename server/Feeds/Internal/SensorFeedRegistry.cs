using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// The in-memory engine's sensors, shared by <see cref="InMemoryFeedEngine"/> and <see cref="InMemoryReadingHistory"/>,
/// and the counters of subscriptions that have ended.
/// </summary>
internal sealed class SensorFeedRegistry
{
    private readonly ConcurrentDictionary<string, SensorFeed> _feeds = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _historyCapacity;
    private long _retiredDelivered;
    private long _retiredDropped;

    public SensorFeedRegistry(IOptions<FeedOptions> options, TimeProvider time)
    {
        _time = time;
        _historyCapacity = options.Value.HistoryCapacity;
    }

    public ICollection<SensorFeed> Feeds => _feeds.Values;

    public long RetiredDelivered => Volatile.Read(ref _retiredDelivered);

    public long RetiredDropped => Volatile.Read(ref _retiredDropped);

    public bool TryGet(string sensorId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SensorFeed feed) =>
        _feeds.TryGetValue(sensorId, out feed);

    public SensorFeed GetOrAdd(SensorDescriptor descriptor, out bool added)
    {
        if (_feeds.TryGetValue(descriptor.Id, out var existing))
        {
            added = false;
            return existing;
        }
        var created = new SensorFeed(descriptor, FirstSequence(), _historyCapacity, this);
        var feed = _feeds.GetOrAdd(descriptor.Id, created);
        added = ReferenceEquals(feed, created);
        return feed;
    }

    public void Retire(LiveSubscription subscription)
    {
        Interlocked.Add(ref _retiredDelivered, subscription.Delivered);
        Interlocked.Add(ref _retiredDropped, subscription.Dropped);
    }

    /// <summary>
    /// A sensor's first sequence is the microseconds since 1970 at the moment this process first sees it. The
    /// in-memory engine keeps nothing across restarts, so this clock-derived base is what keeps a restarted server
    /// above every sequence it issued before (as long as no sensor averaged over a million readings a second), and it
    /// stays below 2^53 until the year 2255, so JavaScript reads every sequence exactly.
    /// </summary>
    private long FirstSequence() => _time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
}
