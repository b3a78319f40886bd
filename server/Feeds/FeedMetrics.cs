using System.Diagnostics.Metrics;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The feeds' instruments on the <see cref="SensorHubTelemetry.MeterName"/> meter. The per-reading counts are
/// observable counters read from the engine's running totals (<see cref="FeedTotals"/>) when an exporter collects, so
/// that a reading costs what it cost before metrics existed: one striped add, no instrument call.
/// </summary>
/// <remarks>
/// With the Redis engine every count here is this node's (readings published through it, delivered to its
/// subscribers); Prometheus or the collector adds the nodes up. <c>/api/stats</c> shows the cluster's sensors and
/// published readings instead (read from Redis), as it always did.
/// </remarks>
public sealed class FeedMetrics
{
    /// <summary>Readings published, by <see cref="SensorHubTelemetry.SensorKind"/>.</summary>
    public const string PublishedInstrument = "sensorhub.readings.published";

    /// <summary>Readings handed to subscribers' streams (replayed ones included), by <see cref="SensorHubTelemetry.SensorKind"/>.</summary>
    public const string DeliveredInstrument = "sensorhub.readings.delivered";

    /// <summary>Readings subscribers lost (their buffer overflowed and history no longer held them), by <see cref="SensorHubTelemetry.SensorKind"/>.</summary>
    public const string DroppedInstrument = "sensorhub.readings.dropped";

    /// <summary>Readings delivered from history (a replay from <c>fromSequence</c>, or a fill of a full buffer's gap), by <see cref="SensorHubTelemetry.SensorKind"/>.</summary>
    public const string ReplayedInstrument = "sensorhub.readings.replayed";

    /// <summary>Server-to-client feed streams that ended because the engine lost its backend (<c>backend_unavailable</c>), by <see cref="SensorHubTelemetry.RpcMethod"/>.</summary>
    public const string InterruptedInstrument = "sensorhub.streams.interrupted";

    private readonly Counter<long> _interrupted;

    internal FeedMetrics(IMeterFactory meterFactory, FeedTotals totals)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        meter.CreateObservableCounter(PublishedInstrument, () => ByKind(totals, static k => k.Published.Sum()), "{reading}",
            "Readings published, by sensor kind (with Redis: through this node).");
        meter.CreateObservableCounter(DeliveredInstrument, () => ByKind(totals, static k => k.Delivered.Sum()), "{reading}",
            "Readings handed to subscribers' streams, replayed ones included, by sensor kind.");
        meter.CreateObservableCounter(DroppedInstrument, () => ByKind(totals, static k => k.Dropped), "{reading}",
            "Readings subscribers lost: their buffer overflowed and history no longer held them, by sensor kind.");
        meter.CreateObservableCounter(ReplayedInstrument, () => ByKind(totals, static k => k.Replayed.Sum()), "{reading}",
            "Readings delivered from history (replays and gap fills), also counted as delivered, by sensor kind.");
        _interrupted = meter.CreateCounter<long>(InterruptedInstrument, "{stream}",
            "Server-to-client streams ended with backend_unavailable (the engine lost Redis), by hub method.");
    }

    /// <summary>Counts one stream of hub method <paramref name="method"/> that ended with <c>backend_unavailable</c>.</summary>
    public void StreamInterrupted(string method) =>
        _interrupted.Add(1, new KeyValuePair<string, object?>(SensorHubTelemetry.RpcMethod, method));

    /// <summary>One measurement per kind counted so far; runs when an exporter collects, never per reading.</summary>
    private static List<Measurement<long>> ByKind(FeedTotals totals, Func<KindTotals, long> of)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var kind in totals.Kinds)
            measurements.Add(new Measurement<long>(of(kind), new KeyValuePair<string, object?>(SensorHubTelemetry.SensorKind, kind.Kind)));
        return measurements;
    }
}
