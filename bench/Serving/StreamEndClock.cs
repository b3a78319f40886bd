using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using SensorHub.Server.Hubs;

namespace SensorHub.Bench.Serving;

/// <summary>
/// When each server-side stream's finally ran, as <see cref="Stopwatch.GetTimestamp"/> values. The monotonic clock
/// is the machine's, so the driver process can subtract the moment it cancelled. SensorHub's moments come from its
/// meter, which records a stream's end once its generator's finally has run; the baseline records its own.
/// </summary>
internal sealed class StreamEndClock : IDisposable
{
    private ConcurrentQueue<long> _ends = new();
    private MeterListener? _listener;

    public void Record() => _ends.Enqueue(Stopwatch.GetTimestamp());

    public void Reset() => Interlocked.Exchange(ref _ends, new ConcurrentQueue<long>());

    public long[] Snapshot() => [.. _ends];

    /// <summary>Listens to the SensorHub meter made by <paramref name="meterFactory"/>.</summary>
    public void Follow(IMeterFactory meterFactory)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SensorHub.Server.Telemetry.SensorHubTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory)
                    && instrument.Name == HubActivity.ActiveStreamsInstrument)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, delta, _, _) =>
        {
            if (delta < 0)
                Record();
        });
        _listener.Start();
    }

    public void Dispose() => _listener?.Dispose();
}
