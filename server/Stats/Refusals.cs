using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using SensorHub.Contracts;
using SensorHub.Server.Hubs;

namespace SensorHub.Server.Stats;

/// <summary>
/// How many times each refusal happened since start, by error code (<see cref="SensorHubErrors"/>): every hub call
/// refused with a code, and every published item or CSV row rejected with one. <c>/api/stats</c> shows the counts,
/// and the <see cref="HubActivity.MeterName"/> meter's <see cref="Instrument"/> counter carries each as it happens,
/// tagged <c>error.type</c> (OpenTelemetry's attribute for the class of an error).
/// </summary>
public sealed class Refusals
{
    /// <summary>The counter's name: one per refusal, tagged <c>error.type</c> with its code.</summary>
    public const string Instrument = "sensorhub.refusals";

    private readonly FrozenDictionary<string, int> _index;
    private readonly long[] _counts;
    private readonly Counter<long> _counter;

    public Refusals(IMeterFactory meterFactory)
    {
        _index = SensorHubErrors.All.Select((code, i) => (code, i)).ToFrozenDictionary(p => p.code, p => p.i, StringComparer.Ordinal);
        _counts = new long[SensorHubErrors.All.Count];
        _counter = meterFactory.Create(HubActivity.MeterName)
            .CreateCounter<long>(Instrument, "{refusal}", "Hub calls refused and items rejected, by error code.");
    }

    /// <summary>Counts one refusal with <paramref name="code"/>; a code the server does not know is not counted.</summary>
    public void Count(string code)
    {
        if (!_index.TryGetValue(code, out var i))
            return;
        Interlocked.Increment(ref _counts[i]);
        _counter.Add(1, new KeyValuePair<string, object?>("error.type", code));
    }

    /// <summary>Every code with its count so far, in the order of <see cref="SensorHubErrors.All"/>.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new Dictionary<string, long>(_counts.Length, StringComparer.Ordinal);
        foreach (var (code, i) in _index.OrderBy(p => p.Value))
            snapshot[code] = Volatile.Read(ref _counts[i]);
        return snapshot;
    }
}
