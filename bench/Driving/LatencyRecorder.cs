using System.Diagnostics;
using HdrHistogram;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Readings delivered and their publish-to-receive latency while measuring. A reading's value is the server's
/// <see cref="Stopwatch.GetTimestamp"/> at publish; the monotonic clock is the machine's, so the driver's clock reads
/// on the same scale. Latencies are kept in microseconds, 3 significant digits.
/// </summary>
internal sealed class LatencyRecorder
{
    private static readonly double s_ticksPerMicro = Stopwatch.Frequency / 1_000_000.0;
    private readonly LongConcurrentHistogram _histogram = new(1, 600_000_000, 3);
    private long _delivered;
    private int _measuring;

    public long Delivered => Interlocked.Read(ref _delivered);

    public void Start() => Volatile.Write(ref _measuring, 1);

    public void Stop() => Volatile.Write(ref _measuring, 0);

    public void Record(Reading reading)
    {
        if (Volatile.Read(ref _measuring) == 0)
            return;
        Interlocked.Increment(ref _delivered);
        var micros = (long)((Stopwatch.GetTimestamp() - reading.Value) / s_ticksPerMicro);
        _histogram.RecordValue(Math.Clamp(micros, 1, 600_000_000));
    }

    public double PercentileMs(double percentile) => _delivered == 0 ? double.NaN : _histogram.GetValueAtPercentile(percentile) / 1000.0;
}
