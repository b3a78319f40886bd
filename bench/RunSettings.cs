using SensorHub.Bench.Driving;
using SensorHub.Contracts;

namespace SensorHub.Bench;

/// <summary>
/// What a mode runs and where it writes: <paramref name="ResultName"/> is the file name under results/ (only a full
/// <c>all</c> writes <c>latest</c>). A part that is <see langword="null"/> is not run.
/// </summary>
internal sealed record RunSettings(
    string ResultName, CurrentScenarios? Current, PathScenarios? Path, RedisScenarios? Redis = null, ManyScenarios? Many = null, MqttScenarios? Mqtt = null,
    CsvScenarios? Csv = null)
{
    /// <summary>Whether the mode runs SensorHub side by side with the baseline (the path and in-process scenarios).</summary>
    public bool Versus => Current is not null || Path is not null;

    public static RunSettings? For(string mode) => mode switch
    {
        // Every scenario for a moment with small N: proves the tool works (CI), measures nothing worth keeping.
        "smoke" => new("smoke", CurrentScenarios.Smoke, PathScenarios.Smoke, RedisScenarios.Smoke, ManyScenarios.Smoke, MqttScenarios.Smoke, CsvScenarios.Smoke),
        // Issue 16: SubscribeMany against one Subscribe per sensor, and the MQTT ingest (modes of their own).
        "many" => new("many", null, null, Many: ManyScenarios.Full),
        "mqtt" => new("mqtt", null, null, Mqtt: MqttScenarios.Full),
        // Issue 17: CSV processing in rows/s, long and wide, against today's long-form processing (a mode of its own).
        "csv" => new("csv", null, null, Csv: CsvScenarios.Full),
        "quick" => new("quick", CurrentScenarios.Quick, PathScenarios.Quick),
        "path" => new("path", null, PathScenarios.Full),
        "all" => new("latest", CurrentScenarios.All, PathScenarios.Full),
        // Issue 14: SensorHub nodes on a redis-server of the bench's own (a mode of its own, see RedisBench).
        "redis" => new("redis", null, null, RedisScenarios.Full),
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
        if (Redis is { } redis)
            notes.AddRange(redis.Notes());
        if (Many is { } many)
            notes.AddRange(many.Notes());
        if (Mqtt is { } mqtt)
            notes.AddRange(mqtt.Notes());
        if (Csv is { } csv)
            notes.AddRange(csv.Notes());
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

/// <summary>
/// The Redis mode (issue 14): a redis-server of the bench's own, <see cref="Nodes"/> SensorHub nodes on it and one node
/// on the in-memory engine, each a process of its own (see <see cref="RedisBench"/>).
/// </summary>
/// <param name="Rounds">Rounds of the fan-out, latency and throughput runs (each configuration once a round; medians).</param>
/// <param name="Nodes">Nodes on Redis; the fan-out runs on the first 1, 2, … of them (<see cref="FanOutNodeCounts"/>).</param>
/// <param name="FanOutSubscribers">Subscribers of a fan-out run in all, split evenly over its nodes.</param>
/// <param name="CompareInMemory">Whether the in-memory node runs each case too (column B).</param>
/// <param name="Latency">Whether the light run for publish-to-receive latency runs (on every node).</param>
/// <param name="ThroughputDuration">How long the device publishes flat out in a throughput run.</param>
/// <param name="ResumeSubscribers">SDK subscribers on the node that is killed; 0: no kill.</param>
/// <param name="ResumeRate">The device's readings per second while a node is killed under its subscribers.</param>
/// <param name="BeforeKill">How long the device publishes before the kill.</param>
/// <param name="ResumeWait">How long the subscribers have to resume, and then to receive the rest.</param>
internal sealed record RedisScenarios(
    int Rounds,
    int Nodes,
    int[] FanOutNodeCounts,
    int FanOutSubscribers,
    bool CompareInMemory,
    TimeSpan Warmup,
    TimeSpan Duration,
    bool Latency,
    TimeSpan ThroughputDuration,
    int ResumeSubscribers,
    double ResumeRate,
    TimeSpan BeforeKill,
    TimeSpan ResumeWait,
    bool WarmUp = true)
{
    /// <summary>Deliveries per second asked for in all by a heavy fan-out run: more than the driver's clients take in on 2 cores.</summary>
    public const double HeavyDeliveries = 500_000;

    /// <summary>Deliveries per second in all of the light run that measures latency.</summary>
    public const double LightDeliveries = 20_000;

    /// <summary>Readings per item of the throughput run's device (<c>PublishBatches</c>).</summary>
    public const int ThroughputBatch = 50;

    /// <summary>
    /// A few seconds for CI (<c>smoke</c>): 2 nodes, 10 subscribers across them for half a second, a second of the
    /// device flat out, and 10 SDK subscribers resuming after their node is killed. Proves the harness runs.
    /// </summary>
    public static RedisScenarios Smoke { get; } = new(1, 2, [2], 10, CompareInMemory: false, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500),
        Latency: false, TimeSpan.FromSeconds(1), 10, 20, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), WarmUp: false);

    /// <summary>The Redis mode: 3 nodes, 300 subscribers, 3 s windows, 1,000 SDK subscribers on the killed node; a few minutes.</summary>
    public static RedisScenarios Full { get; } = new(2, 3, [1, 2, 3], 300, CompareInMemory: true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3),
        Latency: true, TimeSpan.FromSeconds(3), 1000, 50, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));

    public IReadOnlyList<string> Notes() =>
    [
        $"Redis: a redis-server of the bench's own (`--save '' --appendonly no`, a free loopback port, stopped by pid) and {Nodes} SensorHub nodes on it, each a `serve sensorhub` process with `SensorHub:Redis:Configuration` set and a shared key prefix, signing key and upload data folder; beside them one node on the in-memory engine (no Redis). All on 127.0.0.1, sharing the machine's cores with the driver and the device.",
        $"Fan-out: {FanOutSubscribers} subscribers in all (the driver's .NET clients, MessagePack, `Subscribe`, WebSockets without negotiation), split evenly over the first 1, 2, 3 nodes; a device process publishes on node 1 through `Publish`, heavy = {HeavyDeliveries:N0} deliveries/s asked for in all ({HeavyDeliveries / FanOutSubscribers:N0} readings/s). Warm-up {Warmup.TotalSeconds} s, measured {Duration.TotalSeconds} s, {Rounds} round(s), medians. \"same node\" = subscribers on node 1, \"cross node\" = on the others.",
        "Cost on Redis: Redis CPU (`INFO cpu`, used_cpu_sys + used_cpu_user) and commands (`INFO commandstats`, the bench's own INFO left out; the commands a script runs count as commands too, so script calls are given apart), from just before the device starts to after it stopped, divided by the readings it published (node heartbeats, position checks and pub/sub included). Redis CPU % is over the measured window, of all cores.",
        $"Latency: a light run ({LightDeliveries:N0} deliveries/s in all) with the subscribers on all nodes; the device's send to the subscriber's receive, on the machine's monotonic clock.",
        $"Throughput: one device stream flat out through `PublishBatches` of {ThroughputBatch}, no subscribers, {ThroughputDuration.TotalSeconds} s; readings/s = readings accepted / time from the stream's start to the server's answer.",
        $"Resume: {ResumeSubscribers} SDK clients (`SensorHub.Client`, MessagePack, WebSockets without negotiation) on node 1, each subscribed from the sensor's oldest reading; a device publishes {ResumeRate} readings/s on the last node; after {BeforeKill.TotalSeconds} s node 1's process is killed (SIGKILL). Each client's connection attempts try node 1, then the other nodes (half in each order): the SDK reconnects and resumes by itself. Resume time: from the kill to the client's first reading on its new connection. Missing and duplicated: against every sequence the sensor issued, once the device stopped and the rest arrived (up to {ResumeWait.TotalSeconds} s).",
    ];
}

/// <summary>
/// Issue 16's many-sensor scenario (<see cref="ManyScenario"/>): for each number of subscriber connections, a light and
/// a heavy rate on every sensor, one <c>SubscribeMany</c> on <c>#</c> per connection (A) against one <c>Subscribe</c>
/// per sensor on each connection (B), A then B each round; medians.
/// </summary>
internal sealed record ManyScenarios(int Rounds, int Sensors, int[] Connections, double[] RatesPerSensor, TimeSpan Warmup, TimeSpan Duration, bool WarmUp = true)
{
    /// <summary>A second or two for CI: 100 sensors, one connection, the light rate, half a second measured.</summary>
    public static ManyScenarios Smoke { get; } = new(1, 100, [1], [1], TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(500), WarmUp: false);

    /// <summary>The 500 sensors, 1 and 10 connections, 1 and 20 readings/s per sensor.</summary>
    public static ManyScenarios Full { get; } = new(2, 500, [1, 10], [1, 20], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));

    public IEnumerable<ManyCase> Cases() =>
        from connections in Connections
        from rate in RatesPerSensor
        select new ManyCase(Sensors, connections, Heavy: rate != RatesPerSensor[0], rate);

    public IReadOnlyList<string> Notes() =>
    [
        $"Many sensors: a SensorHub of its own (`serve sensorhub`, MaxStreamsPerConnection 1,000, history 16 readings per sensor, filled before measuring so that the heap holds still), {Sensors} sensors registered through the control route, the publisher inside it publishing to them in turn (each reading's value its Stopwatch timestamp: latency is publish to receive). Subscribers: the driver's .NET clients (MessagePack, WebSockets without negotiation, no token); per connection either one `SubscribeMany(\"#\")` (A) or one `Subscribe` per sensor (B). {Rounds} round(s), A then B each round; medians. Warm-up {Warmup.TotalSeconds} s, measured {Duration.TotalSeconds} s.",
        "Many sensors: heap per connection = the server's managed heap after forced compacting collections, with the subscribers' streams open minus without them, divided by the connections: idle (nothing published) and under load (the publisher running; taken just before the window). CPU µs per reading delivered = the server's CPU time over the window / readings delivered.",
    ];
}

/// <summary>
/// Issue 16's MQTT ingest scenario (<see cref="MqttScenario"/>): a mosquitto of the bench's own, a SensorHub reading
/// <c>bench/#</c> from it, and a device process publishing either to the broker (A) or through <c>Publish</c> (B).
/// </summary>
/// <param name="Subscribers">SignalR subscribers of the latency run (the driver's .NET clients, <c>Subscribe</c>).</param>
/// <param name="LatencyRate">The device's readings per second in the latency run.</param>
/// <param name="ThroughputDuration">How long the device publishes flat out in a throughput run.</param>
/// <param name="Throughput">Whether the throughput runs run.</param>
/// <param name="ComparePublish">Whether each case runs through <c>Publish</c> too (column B).</param>
internal sealed record MqttScenarios(
    int Rounds, int Subscribers, double LatencyRate, TimeSpan Warmup, TimeSpan Duration, TimeSpan ThroughputDuration,
    bool WarmUp = true, bool Throughput = true, bool ComparePublish = true)
{
    /// <summary>
    /// About 8-12 s for CI: one latency run through the broker, 5 subscribers at 100 readings/s for half a second. Most
    /// of it is starting processes (broker, server, device); the device's <c>Publish</c> is run by the path slice.
    /// </summary>
    public static MqttScenarios Smoke { get; } = new(1, 5, 100, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1),
        WarmUp: false, Throughput: false, ComparePublish: false);

    public static MqttScenarios Full { get; } = new(2, 10, 1_000, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3));

    public IReadOnlyList<string> Notes() =>
    [
        $"MQTT: Debian's mosquitto of the bench's own (a free loopback port, no persistence, max_queued_messages 0 = unbounded so that a flat-out publisher loses nothing at the broker, max_inflight_messages left at its default of 20), a SensorHub (`serve sensorhub`) with `SensorHub:Mqtt:Host/Port`, `Topics:0=bench/#`, `StripPrefix=bench/`. The device (`SensorHub.Bench device`, a process of its own) publishes either to the broker with MQTTnet 5.2 (QoS 1, MQTT 5, a bare-number payload, up to {MqttDevice.InFlight} publishes awaiting their PUBACK per connection; one connection at a set rate, {MqttDevice.FlatOutConnections} flat out, readings taken in turn, since one connection's PUBACK window bounded a flat-out device at 3,700 readings/s) (A), or through the hub's `Publish` as in the path scenarios (B).",
        $"MQTT throughput: the device flat out for {ThroughputDuration.TotalSeconds} s, nobody subscribed; readings/s = readings that reached the sensor's feed / time from `go` to the moment the feed had them all (the driver polls `ListSensors` every 10 ms). Latency: {Subscribers} .NET subscribers (`Subscribe`, MessagePack) on the sensor, the device at {LatencyRate:N0} readings/s; from the device's send to the subscriber's receive, on the machine's monotonic clock. Warm-up {Warmup.TotalSeconds} s, measured {Duration.TotalSeconds} s; {Rounds} round(s), A then B each round; medians.",
    ];
}

/// <summary>
/// Issue 17's CSV scenario (<see cref="CsvScenario"/>): a long and a wide file of about <see cref="Bytes"/> each,
/// generated into a temporary folder (<see cref="CsvFiles"/>) and deleted after, processed by the server's processor in
/// the driver's process and, with <see cref="Upload"/>, uploaded to a SensorHub of its own.
/// </summary>
/// <param name="Rounds">Runs of each row; medians.</param>
/// <param name="LongSensors">Sensors of the long file (a row for each, in turn, at each instant).</param>
/// <param name="WideColumns">Sensor columns of the wide file.</param>
/// <param name="Upload">Whether each file is also uploaded over the hub to a <c>serve sensorhub</c> process.</param>
internal sealed record CsvScenarios(int Rounds, long Bytes, int LongSensors, int WideColumns, bool Upload, bool WarmUp = true)
{
    /// <summary>A few seconds for CI: 4 MB files, one round, the processor alone (the upload path runs in the responsiveness slice).</summary>
    public static CsvScenarios Smoke { get; } = new(1, 4_000_000, 300, 50, Upload: false, WarmUp: false);

    /// <summary>The 100 MB of each layout; 3 rounds of the processor, 2 of the upload.</summary>
    public static CsvScenarios Full { get; } = new(3, 100_000_000, 300, 50, Upload: true);

    /// <summary>Rounds of the upload rows (each moves the file over the hub and writes it to disk).</summary>
    public int UploadRounds => Math.Min(Rounds, 2);

    public IReadOnlyList<string> Notes() =>
    [
        $"CSV: two files generated into a temporary folder (deleted after), the same bytes on every run: long = `sensorId,timestamp,value` with a header, {LongSensors} sensors in turn at each instant; wide = `timestamp` and {WideColumns} sensor columns with a header, every tenth cell empty (no reading). About {Bytes / 1_000_000} MB each; ISO 8601 UTC timestamps one second apart in the past, two-decimal values; every row valid.",
        $"CSV processing: the server's `CsvProcessor` in the driver's process, fed the file (read into memory first) in {CsvScenario.ChunkBytes / 1024} KiB chunks with its checkpoint read after each, as the upload's worker does, publishing through a real `ReadingIngest` into the in-memory engine (no subscriber). rows/s and MB/s are the file's rows and bytes over the time; readings/s counts the readings the processor accepted; driver CPU is the whole driver process's (GC threads included). {Rounds} round(s), medians; a warm-up pass over a 4 MB file of each layout first.",
        Upload
            ? $"CSV upload: the same file through `BeginUpload` + `Upload` over the hub (MessagePack, {CsvScenario.ChunkBytes / 1024} KiB chunks read from disk, an `operator` dev token) to a `serve sensorhub` process of its own, timed until `Upload` answers (every row processed by then); server CPU from the server's own samples. {UploadRounds} round(s), medians."
            : "CSV upload over the hub: not run in this mode.",
        $"CSV baseline: column B holds the figures recorded for the long file on main's long-form processor before issue 17 ({CsvBaseline.Recorded}); wide rows are compared with that long-form figure too, as the issue asks.",
    ];
}
