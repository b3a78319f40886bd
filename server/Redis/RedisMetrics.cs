using System.Diagnostics.Metrics;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Redis;

/// <summary>The Redis connection's instruments on the <see cref="SensorHubTelemetry.MeterName"/> meter (Redis engine only).</summary>
public sealed class RedisMetrics
{
    /// <summary>The round trip of the availability check's <c>PING</c> (unit <c>s</c>), one per answered ping (several per grace period).</summary>
    public const string DurationInstrument = "sensorhub.redis.duration";

    /// <summary>
    /// Connections to Redis restored by StackExchange.Redis (unit <c>{reconnection}</c>). The node has two, commands
    /// and pub/sub, and each counts: a Redis restart usually shows as 2.
    /// </summary>
    public const string ReconnectionsInstrument = "sensorhub.redis.reconnections";

    private readonly Histogram<double> _duration;
    private readonly Counter<long> _reconnections;

    public RedisMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _duration = meter.CreateHistogram<double>(
            DurationInstrument, "s", "Round trip of the availability check's PING to Redis.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _reconnections = meter.CreateCounter<long>(
            ReconnectionsInstrument, "{reconnection}", "Connections to Redis restored (commands and pub/sub each count).");
    }

    /// <summary>A ping was answered after <paramref name="roundTrip"/>.</summary>
    public void PingAnswered(TimeSpan roundTrip) => _duration.Record(roundTrip.TotalSeconds);

    /// <summary>StackExchange.Redis restored one of the node's connections.</summary>
    public void Reconnected() => _reconnections.Add(1);
}
