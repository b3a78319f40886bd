using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Readings delivered and their publish-to-receive latency while measuring. A reading's value is the server's
/// <see cref="Stopwatch.GetTimestamp"/> at publish; the monotonic clock is the machine's, so the driver's clock reads
/// on the same scale. Each consumer records into a histogram of its own (microseconds, 3 significant digits), so that
/// hundreds of consumers do not contend on one; they are added up once the consumers have finished.
/// </summary>
internal sealed class LatencyRecorder
{
    private static readonly double s_ticksPerMicro = Stopwatch.Frequency / 1_000_000.0;
    private readonly ConcurrentBag<Part> _parts = [];
    private int _measuring;
    private LongHistogram? _total;

    public long Delivered => _parts.Sum(p => p.Delivered);

    /// <summary>Readings the consumers never received while recording: the jumps in <c>sequence</c> on their streams.</summary>
    public long Missed => _parts.Sum(p => p.Missed);

    public void Start() => Volatile.Write(ref _measuring, 1);

    public void Stop() => Volatile.Write(ref _measuring, 0);

    /// <summary>
    /// A recorder for one consumer: call it from one thread at a time. <paramref name="manySensors"/>: its stream carries
    /// several sensors (<c>SubscribeMany</c>), whose sequences are each their own, so jumps are told per sensor.
    /// </summary>
    public Action<Reading> NewConsumer(bool manySensors = false)
    {
        var part = new Part();
        _parts.Add(part);
        var lastBySensor = manySensors ? new Dictionary<string, long>(StringComparer.Ordinal) : null;
        return reading =>
        {
            long previous;
            if (lastBySensor is null)
            {
                previous = part.LastSequence;
                part.LastSequence = reading.Sequence;
            }
            else
            {
                previous = lastBySensor.GetValueOrDefault(reading.SensorId, -1);
                lastBySensor[reading.SensorId] = reading.Sequence;
            }
            if (Volatile.Read(ref _measuring) == 0)
                return;
            if (previous >= 0 && reading.Sequence > previous + 1)
                part.Missed += reading.Sequence - previous - 1;
            part.Delivered++;
            var micros = (long)((Stopwatch.GetTimestamp() - reading.Value) / s_ticksPerMicro);
            part.Histogram.RecordValue(Math.Clamp(micros, 1, 600_000_000));
        };
    }

    /// <summary>Read once every consumer has finished.</summary>
    public double PercentileMs(double percentile)
    {
        if (_total is null)
        {
            _total = new LongHistogram(1, 600_000_000, 3);
            foreach (var part in _parts)
                _total.Add(part.Histogram);
        }
        return _total.TotalCount == 0 ? double.NaN : _total.GetValueAtPercentile(percentile) / 1000.0;
    }

    private sealed class Part
    {
        public LongHistogram Histogram { get; } = new(1, 600_000_000, 3);
        public long Delivered { get; set; }

        public long Missed { get; set; }

        public long LastSequence { get; set; } = -1;
    }
}
