namespace SensorHub.Bench;

/// <summary>How long and how large each mode runs its scenarios.</summary>
internal sealed record RunSettings(
    int Rounds,
    TimeSpan Warmup,
    TimeSpan Duration,
    int[] FanOutSubscribers,
    int[] IdleConnections,
    int CancelAtOnce,
    int CancelOneByOne,
    long UploadBytes,
    long CsvBytes,
    bool WarmUp = true)
{
    public static RunSettings? For(string mode) => mode switch
    {
        // Every scenario for a moment with small N: proves the tool works (CI), measures nothing worth keeping.
        "smoke" => new(1, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), [10], [50], 50, 20, 4L << 20, 2_000_000, WarmUp: false),
        "quick" => new(3, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1.5), [100], [1000], 1000, 200, 64L << 20, 20_000_000),
        "all" => new(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), [1, 100, 1000], [1000, 5000], 1000, 200, 500L << 20, 100_000_000),
        _ => null,
    };

    public IReadOnlyList<string> Notes() =>
    [
        $"{Rounds} round(s) per row, A then B each round; medians. Fan-out: warm-up {Warmup.TotalSeconds} s, measured {Duration.TotalSeconds} s.",
        "Each server runs in a process of its own (`serve`, workstation GC) on 127.0.0.1; the load generator (.NET SignalR clients over WebSockets, one connection per subscriber) is this process. They share the machine's cores.",
        "CPU % is of all cores. Latency is publish (inside the server) to receive (in the load generator), on the machine's monotonic clock.",
        "Memory per connection is the server process's managed heap (after a forced compacting GC) and working set, divided by N. Peaks are sampled every 5 ms.",
        "Ratio = A / B: higher is better for readings/s and MB/s, lower for latency, CPU, memory and time.",
    ];
}
