using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using SensorHub.Contracts;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Stats;

/// <summary>
/// How many times each refusal happened since start, by error code (<see cref="SensorHubErrors"/>): every hub call
/// refused with a code, and every published item or CSV row rejected with one. <c>/api/stats</c> shows the counts,
/// and the <see cref="SensorHubTelemetry.MeterName"/> meter's counters carry each as it happens, tagged
/// <see cref="SensorHubTelemetry.ErrorType"/> with its code: <see cref="Instrument"/> every refusal,
/// <see cref="LimitsInstrument"/> those that are a limit (<see cref="LimitCodes"/>), <see cref="RejectedInstrument"/>
/// the readings rejected. A refusal is rare next to an accepted reading, so a counter call per refusal is fine.
/// </summary>
public sealed class Refusals
{
    /// <summary>The counter's name: one per refusal, tagged <c>error.type</c> with its code.</summary>
    public const string Instrument = "sensorhub.refusals";

    /// <summary>Refusals whose code says a limit was reached (<see cref="LimitCodes"/>), tagged <c>error.type</c>.</summary>
    public const string LimitsInstrument = "sensorhub.limits.reached";

    /// <summary>Readings (published items, CSV rows) rejected, tagged <c>error.type</c>; never counts accepted ones.</summary>
    public const string RejectedInstrument = "sensorhub.readings.rejected";

    /// <summary>
    /// The codes that mean a limit was reached: the per-connection and per-server caps, the rate budgets, and the sizes
    /// and storage of uploads. A refusal with one of them is what capacity alerts watch; the others (bad input, not
    /// allowed, unknown ids, upload state, a lost backend) are not limits.
    /// </summary>
    public static readonly FrozenSet<string> LimitCodes = new[]
    {
        SensorHubErrors.TooManyStreams, SensorHubErrors.TooManyUploads, SensorHubErrors.ServerBusy, SensorHubErrors.TooManySessions,
        SensorHubErrors.SessionFull, SensorHubErrors.RateLimited, SensorHubErrors.TooManySensors, SensorHubErrors.QuotaExceeded,
        SensorHubErrors.InsufficientStorage, SensorHubErrors.TooLarge,
    }.ToFrozenSet(StringComparer.Ordinal);

    private readonly FrozenDictionary<string, int> _index;
    private readonly long[] _counts;
    private readonly Counter<long> _counter;
    private readonly Counter<long> _limits;
    private readonly Counter<long> _rejected;

    public Refusals(IMeterFactory meterFactory)
    {
        _index = SensorHubErrors.All.Select((code, i) => (code, i)).ToFrozenDictionary(p => p.code, p => p.i, StringComparer.Ordinal);
        _counts = new long[SensorHubErrors.All.Count];
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _counter = meter.CreateCounter<long>(Instrument, "{refusal}", "Hub calls refused and items rejected, by error code.");
        _limits = meter.CreateCounter<long>(LimitsInstrument, "{refusal}", "Refusals because a limit was reached, by error code.");
        _rejected = meter.CreateCounter<long>(RejectedInstrument, "{reading}", "Readings (published items, CSV rows) rejected, by error code.");
    }

    /// <summary>Counts one refusal with <paramref name="code"/>; a code the server does not know is not counted.</summary>
    public void Count(string code) => Count(code, _index);

    /// <summary>
    /// Counts the rejection of <paramref name="readings"/> readings (a published item or CSV row; a batch rejected
    /// whole counts its readings) with <paramref name="code"/>: one refusal, and the readings in
    /// <see cref="RejectedInstrument"/>. A code the server does not know is not counted.
    /// </summary>
    public void CountRejected(string code, long readings = 1)
    {
        if (Count(code, _index))
            _rejected.Add(readings, new KeyValuePair<string, object?>(SensorHubTelemetry.ErrorType, code));
    }

    /// <summary>Records 0 for each code (and each limit's code), so that an exporter shows every series at 0 from the start, as <c>/api/stats</c> does.</summary>
    internal void RecordZeros()
    {
        foreach (var code in SensorHubErrors.All)
        {
            var tag = new KeyValuePair<string, object?>(SensorHubTelemetry.ErrorType, code);
            _counter.Add(0, tag);
            if (LimitCodes.Contains(code))
                _limits.Add(0, tag);
        }
    }

    /// <summary>Every code with its count so far, in the order of <see cref="SensorHubErrors.All"/>.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new Dictionary<string, long>(_counts.Length, StringComparer.Ordinal);
        foreach (var (code, i) in _index.OrderBy(p => p.Value))
            snapshot[code] = Volatile.Read(ref _counts[i]);
        return snapshot;
    }

    private bool Count(string code, FrozenDictionary<string, int> index)
    {
        if (!index.TryGetValue(code, out var i))
            return false;
        Interlocked.Increment(ref _counts[i]);
        var tag = new KeyValuePair<string, object?>(SensorHubTelemetry.ErrorType, code);
        _counter.Add(1, tag);
        if (LimitCodes.Contains(code))
            _limits.Add(1, tag);
        return true;
    }
}
