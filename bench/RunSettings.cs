using SensorHub.Bench.Driving;
using SensorHub.Contracts;

namespace SensorHub.Bench;

/// <summary>
/// What a mode runs and where it writes: <paramref name="ResultName"/> is the file name under results/ (only a full
/// <c>all</c> writes <c>latest</c>). A part that is <see langword="null"/> is not run.
/// </summary>
internal sealed record RunSettings(string ResultName, CurrentScenarios? Current, PathScenarios? Path)
{
    public static RunSettings? For(string mode) => mode switch
    {
        // Every scenario for a moment with small N: proves the tool works (CI), measures nothing worth keeping.
        "smoke" => new("smoke", CurrentScenarios.Smoke, PathScenarios.Smoke),
        "quick" => new("quick", CurrentScenarios.Quick, PathScenarios.Quick),
        "path" => new("path", null, PathScenarios.Full),
        "all" => new("latest", CurrentScenarios.All, PathScenarios.Full),
        _ => null,
    };

    public IReadOnlyList<string> Notes()
    {
        var notes = new List<string>();
        if (Path is { } path)
        {
            notes.Add($"Path scenarios: {path.Rounds} round(s) per row, SensorHub then the baseline each round; medians. Warm-up {path.Warmup.TotalSeconds} s, measured {path.Duration.TotalSeconds} s.");
            notes.Add($"Path: a device process (`SensorHub.Bench device`, .NET client, MessagePack, a `device` dev token on SensorHub) publishes through `Publish` (one reading per item) or `PublishBatches` (batches of up to {PathScenarios.Batch}: what is due in each 1 ms tick); light = 20,000 deliveries/s in all, heavy = 500,000 deliveries/s asked for in all (more than one Node process takes in). SensorHub's per-connection publish rate limit is raised to 100,000,000/s for the bench; both servers' SignalR TransportSendTimeout is 60 s and ClientTimeoutInterval 2 min, and the JS clients' serverTimeout 2 min, so that a load generator seconds behind is not disconnected mid-run.");
            notes.Add("Path subscribers: JS = `@microsoft/signalr` 10.0.11 in Node (`bench/js/loadgen.mjs`), as the dashboard connects: negotiation then WebSockets, a `viewer` dev token on SensorHub (the baseline has no authentication, so its clients carry none); .NET = the driver's own clients, WebSockets with negotiation skipped, no token. Latency is the device's send to the subscriber's receive, on the machine's monotonic clock; load generator CPU % is the JS process's or the driver's.");
        }
        if (Current is { } current)
        {
            notes.Add($"In-process scenarios: {current.Rounds} round(s) per row, A then B each round; medians. Fan-out: warm-up {current.Warmup.TotalSeconds} s, measured {current.Duration.TotalSeconds} s.");
            notes.Add("In-process scenarios: the publisher runs inside the server; the load generator (.NET SignalR clients over WebSockets, one connection per subscriber) is the driver. Latency is publish (inside the server) to receive.");
        }
        notes.Add("Each server runs in a process of its own (`serve`, workstation GC) on 127.0.0.1, sharing the machine's cores with the load generator and the device. CPU % is of all cores.");
        notes.Add("Memory per connection is the server process's managed heap (after a forced compacting GC) and working set, divided by N. Peaks are sampled every 5 ms.");
        notes.Add("Ratio = A / B: higher is better for readings/s and MB/s, lower for latency, CPU, memory and time.");
        return notes;
    }
}

/// <summary>The scenarios with the publisher inside the server (issue 7's), and how long and large each mode runs them.</summary>
internal sealed record CurrentScenarios(
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
    /// <summary>For each N, light then heavy, JSON then MessagePack: Subscribe and SubscribeBatches vs the baseline's stream, and Subscribe vs its group.</summary>
    public IReadOnlyList<FanOutCase> FanOutCases()
    {
        var cases = new List<FanOutCase>();
        foreach (var n in FanOutSubscribers)
            foreach (var heavy in new[] { false, true })
                foreach (var protocol in new[] { Protocol.Json, Protocol.MessagePack })
                {
                    cases.Add(new(n, heavy, protocol, SensorHubMethods.Subscribe));
                    cases.Add(new(n, heavy, protocol, SensorHubMethods.SubscribeBatches));
                    cases.Add(new(n, heavy, protocol, SensorHubMethods.Subscribe, BaselineGroup: true));
                }
        return cases;
    }

    public static CurrentScenarios Smoke { get; } = new(1, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), [10], [50], 50, 20, 4L << 20, 2_000_000, WarmUp: false);

    public static CurrentScenarios Quick { get; } = new(3, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1.5), [100], [1000], 1000, 200, 64L << 20, 20_000_000);

    /// <summary>Shortened beside the path scenarios so that <c>all</c> fits in its time: 2 rounds, no N=1, idle at 1,000 only (the path's idle goes to 5,000).</summary>
    public static CurrentScenarios All { get; } = new(2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), [100, 1000], [1000], 1000, 200, 500L << 20, 100_000_000);
}

/// <summary>The path users take (issue 13): the cases each mode runs, and the idle connections with tokens.</summary>
internal sealed record PathScenarios(int Rounds, TimeSpan Warmup, TimeSpan Duration, PathCase[] Cases, int[] IdleConnections, bool WarmUp = true)
{
    /// <summary>Readings per item of a batched device.</summary>
    public const int Batch = 50;

    private const string Subscribe = SensorHubMethods.Subscribe;
    private const string SubscribeBatches = SensorHubMethods.SubscribeBatches;
    private const SubscriberClient Js = SubscriberClient.Js;
    private const SubscriberClient DotNet = SubscriberClient.DotNet;
    private const Protocol Json = Protocol.Json;
    private const Protocol MessagePack = Protocol.MessagePack;

    /// <summary>
    /// Three tiny cases: JS clients, .NET clients, a batched device. A second of warm-up each: a fresh server took most
    /// of one to deliver its first readings of a heavy run here, which left nothing in a shorter window.
    /// </summary>
    public static PathScenarios Smoke { get; } = new(1, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500),
    [
        new(10, Heavy: false, MessagePack, Subscribe, Js),
        new(10, Heavy: true, Json, Subscribe, DotNet),
        new(10, Heavy: true, MessagePack, SubscribeBatches, Js, Batch),
    ], [20], WarmUp: false);

    /// <summary>
    /// Run once on each server before anything is measured, nothing kept: each protocol, each subscribe method and each
    /// publish method at least once, so that neither server's first measured case pays for compiling them (SensorHub
    /// runs first in each round, so it alone would). About 8 s a run on the shared 2 cores.
    /// </summary>
    public static IReadOnlyList<PathCase> WarmUpCases(SubscriberClient client) =>
    [
        new(20, Heavy: true, Json, Subscribe, client),
        new(20, Heavy: true, MessagePack, Subscribe, client, Batch),
        new(20, Heavy: true, MessagePack, SubscribeBatches, client),
    ];

    public static PathScenarios Quick { get; } = new(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3),
    [
        new(100, Heavy: false, Json, Subscribe, Js),
        new(100, Heavy: false, MessagePack, Subscribe, Js),
        new(100, Heavy: true, MessagePack, Subscribe, Js),
        new(100, Heavy: true, MessagePack, SubscribeBatches, Js),
        new(100, Heavy: true, MessagePack, Subscribe, Js, Batch),
        new(100, Heavy: false, MessagePack, Subscribe, DotNet),
    ], [1000]);

    /// <summary>The table first (JS clients, a device per reading), then the batched device, then .NET clients: 15 cases.</summary>
    public static PathScenarios Full { get; } = new(2, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8),
    [
        new(1000, Heavy: false, Json, Subscribe, Js),
        new(1000, Heavy: false, MessagePack, Subscribe, Js),
        new(100, Heavy: false, Json, Subscribe, Js),
        new(100, Heavy: false, MessagePack, Subscribe, Js),
        new(1000, Heavy: true, Json, Subscribe, Js),
        new(1000, Heavy: true, MessagePack, Subscribe, Js),
        new(1000, Heavy: true, Json, SubscribeBatches, Js),
        new(1000, Heavy: true, MessagePack, SubscribeBatches, Js),
        new(100, Heavy: true, Json, Subscribe, Js),
        new(100, Heavy: true, MessagePack, Subscribe, Js),
        new(1000, Heavy: true, MessagePack, Subscribe, Js, Batch),
        new(1000, Heavy: true, MessagePack, SubscribeBatches, Js, Batch),
        new(1000, Heavy: false, MessagePack, Subscribe, Js, Batch),
        new(1000, Heavy: false, MessagePack, Subscribe, DotNet),
        new(1000, Heavy: true, MessagePack, Subscribe, DotNet),
    ], [1000, 5000]);

    /// <summary>The row name of the idle scenario with <paramref name="connections"/> JS connections.</summary>
    public static string IdleName(int connections) => $"{PathCase.Prefix}idle: {connections} JS connections with tokens, 1 stream each";
}
