using System.Collections.Concurrent;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// The engine's running totals of readings, kept per sensor kind: what <c>/api/stats</c> adds up and the
/// <c>sensorhub.readings.*</c> instruments observe (<see cref="FeedMetrics"/>). Each sensor (or a node's channel of it)
/// and each of its subscriptions holds its kind's <see cref="KindTotals"/>, so counting a reading is the one striped
/// add it always was, without a lookup.
/// </summary>
/// <remarks>
/// Kinds are few: the configured sensors' kinds and <c>device</c> for sensors publishers register. A kind beyond
/// <see cref="MaxKinds"/> is counted as <see cref="OtherKind"/>, so that no configuration can make the metrics'
/// cardinality unbounded. One instance per engine (a DI singleton); never walks sensors or subscriptions.
/// </remarks>
internal sealed class FeedTotals
{
    /// <summary>Distinct kinds counted on their own; later ones count as <see cref="OtherKind"/>.</summary>
    public const int MaxKinds = 64;

    /// <summary>The kind that kinds past <see cref="MaxKinds"/> are counted under.</summary>
    public const string OtherKind = "other";

    private readonly ConcurrentDictionary<string, KindTotals> _kinds = new(StringComparer.Ordinal);
    private readonly Lock _adding = new();

    /// <summary>
    /// The totals of <paramref name="kind"/>, made on first use. Called when a sensor is registered or followed, not
    /// per reading.
    /// </summary>
    public KindTotals For(string kind)
    {
        if (_kinds.TryGetValue(kind, out var totals))
            return totals;
        lock (_adding)
        {
            if (_kinds.TryGetValue(kind, out totals))
                return totals;
            if (_kinds.Count >= MaxKinds && !_kinds.ContainsKey(OtherKind))
                return _kinds[OtherKind] = new KindTotals(OtherKind);
            if (_kinds.Count >= MaxKinds)
                return _kinds[OtherKind];
            return _kinds[kind] = new KindTotals(kind);
        }
    }

    /// <summary>Every kind counted so far; enumerating takes no lock.</summary>
    public IEnumerable<KindTotals> Kinds => _kinds.Values;

    /// <summary>Readings published through this engine (this node, with Redis) since start.</summary>
    public long Published => Sum(static k => k.Published.Sum());

    /// <summary>Readings handed to subscribers since start, replayed ones included.</summary>
    public long Delivered => Sum(static k => k.Delivered.Sum());

    /// <summary>Readings subscribers lost since start.</summary>
    public long Dropped => Sum(static k => k.Dropped);

    /// <summary>Readings handed to subscribers from history (a replay, or a fill of what a full buffer dropped) since start.</summary>
    public long Replayed => Sum(static k => k.Replayed.Sum());

    private long Sum(Func<KindTotals, long> of)
    {
        long sum = 0;
        foreach (var (_, kind) in _kinds)
            sum += of(kind);
        return sum;
    }
}

/// <summary>One sensor kind's running totals since start.</summary>
internal sealed class KindTotals(string kind)
{
    private long _dropped;

    /// <summary>The sensor kind (<c>SensorInfo.kind</c>), or <see cref="FeedTotals.OtherKind"/>.</summary>
    public string Kind { get; } = kind;

    /// <summary>Readings published.</summary>
    public StripedCounter Published { get; } = new();

    /// <summary>Readings handed to subscribers, replayed ones included.</summary>
    public StripedCounter Delivered { get; } = new();

    /// <summary>Readings handed to subscribers from history rather than the live buffer (also in <see cref="Delivered"/>).</summary>
    public StripedCounter Replayed { get; } = new();

    /// <summary>Readings subscribers lost (rare: only what history no longer held), exact at any moment.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    public void CountDropped(long readings) => Interlocked.Add(ref _dropped, readings);
}
