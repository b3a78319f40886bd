using System.Diagnostics;
using SensorHub.Bench.Driving;
using SensorHub.Server.Identity;

namespace SensorHub.Bench;

/// <summary>
/// The Redis mode (issue 14), <c>dotnet run -c Release --project bench -- redis</c>, and its slice in <c>smoke</c>: a
/// redis-server of the bench's own, SensorHub nodes on it and one node on the in-memory engine (see
/// <see cref="RedisCluster"/>); fan-out delivered with 1, 2 and 3 nodes against the in-memory node, what each reading
/// costs Redis, publish-to-receive latency on the device's node and across nodes, one device stream's publish
/// throughput, and a node killed under its SDK subscribers (<see cref="ResumeScenario"/>).
/// </summary>
internal static class RedisBench
{
    public const string Title = "SensorHub on Redis: fan-out across nodes, cost per reading, latency, throughput, resume";

    public const string FanOutPrefix = "redis fan-out ";
    public const string ThroughputPrefix = "redis throughput";
    public const string ResumePrefix = "redis resume";
    public const string ReadingsPerSecond = "readings/s";
    public const string CommandsPerReading = "Redis commands per reading";
    public const string PerSubscriber = "readings/s per subscriber";

    /// <summary>
    /// All commands Redis ran, those a script ran included (<c>INFO commandstats</c> counts both, and so does
    /// <c>total_commands_processed</c>); the script calls themselves apart.
    /// </summary>
    public const string ScriptCallsPerReading = "Redis script calls per reading";

    private static readonly Section s_fanOut = new("Fan-out across nodes: SensorHub on Redis vs the in-memory engine on one node", "Redis", "in-memory, 1 node");
    private static readonly Section s_latency = new("Publish to receive, light load: on the device's node and across nodes (Redis) vs the in-memory engine on one node", "Redis", "in-memory, 1 node");
    private static readonly Section s_commands = new("What a reading costs Redis, by command (`INFO commandstats` over the device's run, last round: the commands a script runs are counted too, and a script's µs include theirs)", "calls per reading", "µs in Redis per reading", Ratio: false);
    private static readonly Section s_throughput = new("Publish throughput of one device stream", "Redis, 1 node", "in-memory, 1 node");
    private static readonly Section s_resume = new("A node killed (SIGKILL) under its SDK subscribers", "Redis", BLabel: null);

    /// <summary>The <c>redis</c> mode: runs <see cref="RunAsync"/> into a report of its own, results/redis.{md,json}.</summary>
    /// <param name="rounds">Rounds instead of the mode's (<c>--rounds N</c>), for a shorter trial.</param>
    public static async Task<int> RunModeAsync(string mode, RunSettings settings, string? only, int? rounds)
    {
        if (RedisServerProcess.MissingPrerequisite() is { } missing)
        {
            Console.Error.WriteLine($"{mode}: cannot start a redis-server: {missing}.");
            return 1;
        }
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        var command = $"dotnet run -c Release --project bench -- {mode}" + (only is null ? "" : $" --only \"{only}\"") + (rounds is null ? "" : $" --rounds {rounds}");
        var scenarios = rounds is { } r and > 0 ? settings.Redis! with { Rounds = r } : settings.Redis!;
        var report = new Report(mode, command, started,
        [
            .. scenarios.Notes(),
            "CPU % is of all cores. Ratio = A / B: higher is better for readings/s, lower for latency, CPU and time.",
        ], Title);
        var failures = await RunAsync(report, scenarios, scenario => only is null || scenario.Contains(only, StringComparison.OrdinalIgnoreCase));

        var verdicts = Targets.Judge(report.Rows);
        var name = only is null ? settings.ResultName : $"{mode}-only";
        var directory = Path.Combine(BenchProgram.BenchFolder(), "results");
        report.Write(directory, name, total.Elapsed, verdicts);
        foreach (var finding in report.Findings)
            Console.WriteLine($"note: {finding}");
        foreach (var v in verdicts)
            Console.WriteLine($"target: {v.Target}: {v.Measured}: {(v.Met ? "met" : "MISSED")}");
        Console.WriteLine($"{mode}: {report.Rows.Count} rows, {report.Failures.Count} failed runs, in {total.Elapsed.TotalSeconds:F0} s; wrote {Path.Combine(directory, name)}.md and .json");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// Starts the cluster, runs the scenarios <paramref name="selected"/> takes (by their names) into
    /// <paramref name="report"/>, and stops everything it started. Returns how many runs failed; a failed run is listed
    /// in the report and left out of its row.
    /// </summary>
    public static async Task<int> RunAsync(Report report, RedisScenarios s, Func<string, bool> selected)
    {
        var n = s.FanOutSubscribers;
        var fanOutNames = s.FanOutNodeCounts.ToDictionary(k => k, k => $"{FanOutPrefix}N={n} heavy, {Nodes(k)} ({Split(n, k)})");
        var latencyName = $"redis latency N={n} light, {Nodes(s.Nodes)} ({Split(n, s.Nodes)})";
        var throughputName = $"{ThroughputPrefix}, one device flat out, PublishBatches of {RedisScenarios.ThroughputBatch}, no subscribers";
        var resumeName = $"{ResumePrefix}: {s.ResumeSubscribers:N0} SDK subscribers on node 1 of {s.Nodes}, node 1 killed";
        var runFanOut = s.FanOutNodeCounts.Where(k => selected(fanOutNames[k])).ToArray();
        var runLatency = s.Latency && selected(latencyName);
        var runThroughput = selected(throughputName);
        var runResume = s.ResumeSubscribers > 0 && selected(resumeName);
        if (runFanOut.Length == 0 && !runLatency && !runThroughput && !runResume)
            return 0;

        var failures = 0;
        RedisCluster cluster;
        var clock = Stopwatch.StartNew();
        try
        {
            cluster = await RedisCluster.StartAsync(s.Nodes, s.CompareInMemory);
        }
        catch (Exception ex)
        {
            report.Failures.Add($"redis: starting redis-server and {s.Nodes} nodes: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
            return 1;
        }
        await using var _ = cluster;
        Console.WriteLine($"redis: redis-server (pid {cluster.Redis.Pid}, port {cluster.Redis.Port}) and {Nodes(s.Nodes)} " +
                          $"(pids {string.Join(", ", cluster.Nodes.Select(x => x.Pid))}){(cluster.InMemory is { } m ? $" and the in-memory node (pid {m.Pid})" : "")} ready in {clock.Elapsed.TotalSeconds:F1} s");

        async Task<T?> Run<T>(string scenario, string label, Func<Task<T>> run) where T : class
        {
            var watch = Stopwatch.StartNew();
            try
            {
                var result = await run();
                Console.WriteLine($"  {scenario}: {label}: {watch.Elapsed.TotalSeconds:F1} s");
                return result;
            }
            catch (Exception ex)
            {
                report.Failures.Add($"{scenario}, {label}: {ex.GetType().Name}: {ex.Message}");
                Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
                failures++;
                return null;
            }
        }

        IReadOnlyList<BenchTarget> First(int k) => cluster.Nodes.Take(k).ToArray();
        BenchTarget[]? inMemory = cluster.InMemory is { } node ? [node] : null;

        // Every node's publish and subscribe paths are compiled before anything is measured; nothing is kept.
        if (s.WarmUp && (runFanOut.Length > 0 || runLatency || runThroughput))
        {
            Console.WriteLine("redis: warming up the nodes");
            foreach (var nodes in new[] { cluster.Nodes, inMemory }.OfType<IReadOnlyList<BenchTarget>>())
            {
                var redis = nodes == inMemory ? null : cluster.Redis;
                await Quietly(() => FanOutAsync(redis, nodes, 30, RedisScenarios.HeavyDeliveries, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500)));
                await Quietly(() => ThroughputAsync(redis, nodes[0], TimeSpan.FromSeconds(1)));
            }
        }

        // Fan-out, heavy: the in-memory node, then 1, 2, 3 nodes on Redis, each round.
        var fanOuts = runFanOut.ToDictionary(k => k, _ => new List<FanOut>());
        var fanOutsInMemory = new List<FanOut>();
        var latencies = new List<FanOut>();
        var latenciesInMemory = new List<FanOut>();
        for (var round = 1; round <= s.Rounds; round++)
        {
            var label = $"round {round}";
            if (runFanOut.Length > 0 && inMemory is not null
                && await Run(fanOutNames[runFanOut[0]], $"in-memory, {label}", () => FanOutAsync(null, inMemory, n, RedisScenarios.HeavyDeliveries, s.Warmup, s.Duration)) is { } f)
                fanOutsInMemory.Add(f);
            foreach (var k in runFanOut)
            {
                if (await Run(fanOutNames[k], $"Redis, {label}", () => FanOutAsync(cluster.Redis, First(k), n, RedisScenarios.HeavyDeliveries, s.Warmup, s.Duration)) is { } r)
                    fanOuts[k].Add(r);
            }
            if (runLatency)
            {
                if (inMemory is not null
                    && await Run(latencyName, $"in-memory, {label}", () => FanOutAsync(null, inMemory, n, RedisScenarios.LightDeliveries, s.Warmup, s.Duration)) is { } li)
                    latenciesInMemory.Add(li);
                if (await Run(latencyName, $"Redis, {label}", () => FanOutAsync(cluster.Redis, cluster.Nodes, n, RedisScenarios.LightDeliveries, s.Warmup, s.Duration)) is { } lr)
                    latencies.Add(lr);
            }
        }
        var inMemoryFanOut = Median(fanOutsInMemory.Select(f => f.Measure));
        foreach (var k in runFanOut.Where(k => fanOuts[k].Count > 0))
        {
            var redisFanOut = Median(fanOuts[k].Select(f => f.Measure))!;
            AddRows(report, s_fanOut, fanOutNames[k], redisFanOut, inMemoryFanOut);
            foreach (var (command, cost) in fanOuts[k][^1].Commands.OrderByDescending(c => c.Value.Calls))
                AddRow(report, s_commands, $"redis commands, fan-out heavy, {Nodes(k)}", command, cost.Calls, cost.Micros);
            if (k > 1)
                NoteIfNothingCrossed(report, $"heavy fan-out with {Nodes(k)}", Value(redisFanOut, $"{PerSubscriber}, {ClusterSubscribers.CrossNode}"));
        }
        if (latencies.Count > 0)
        {
            foreach (var group in new[] { ClusterSubscribers.SameNode, ClusterSubscribers.CrossNode })
            {
                var redisLatency = Median(latencies.Select(l => l.Group(group)))!;
                AddRows(report, s_latency, $"{latencyName}: {group}", redisLatency, Median(latenciesInMemory.Select(l => l.Group(ClusterSubscribers.SameNode))));
                if (group == ClusterSubscribers.CrossNode)
                    NoteIfNothingCrossed(report, "light latency run", Value(redisLatency, PerSubscriber));
            }
        }

        if (runThroughput)
        {
            var redisRuns = new List<Measure>();
            var memoryRuns = new List<Measure>();
            for (var round = 1; round <= s.Rounds; round++)
            {
                if (inMemory is not null && await Run(throughputName, $"in-memory, round {round}", () => ThroughputAsync(null, inMemory[0], s.ThroughputDuration)) is { } mm)
                    memoryRuns.Add(mm);
                if (await Run(throughputName, $"Redis, round {round}", () => ThroughputAsync(cluster.Redis, cluster.Nodes[0], s.ThroughputDuration)) is { } rm)
                    redisRuns.Add(rm);
            }
            if (Median(redisRuns) is { } redisThroughput)
            {
                AddRows(report, s_throughput, throughputName, redisThroughput, Median(memoryRuns));
                if (Value(redisThroughput, CommandsPerReading) is < 0.01)
                    report.Findings.Add("Publishing one device stream on a node on Redis ran no Redis command for its readings: the readings did not go through Redis (until the Redis feed engine is merged, a node on Redis keeps its feeds in memory), so the Redis cost and throughput figures measure nothing yet.");
            }
        }

        // Last: it kills node 1.
        if (runResume && await Run(resumeName, "Redis", async () => new Resume(await ResumeScenario.RunAsync(cluster, s.ResumeSubscribers, s.ResumeRate, s.BeforeKill, s.ResumeWait))) is { } resume)
        {
            AddRows(report, s_resume, resumeName, resume.Result.Measure, null);
            if (resume.Result.Failures is { } failed)
                report.Findings.Add($"Resume: {failed}.");
        }
        return failures;

        static async Task Quietly(Func<Task> run)
        {
            try
            {
                await run();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"redis warm-up failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>A resume run's result, as a class (what <c>Run</c> takes).</summary>
    private sealed record Resume((Measure Measure, string? Failures) Result);

    private static void NoteIfNothingCrossed(Report report, string run, double? crossNodePerSubscriber)
    {
        if (crossNodePerSubscriber == 0)
        {
            report.Findings.Add($"In the {run}, the subscribers on other nodes than the device's received no readings: the nodes do not share their feeds " +
                                "(until the Redis feed engine is merged, a node on Redis keeps its feeds in memory), so its cross-node figures measure nothing yet.");
        }
    }

    /// <summary>What one fan-out run measured: its figures, each group's delivery, and what each reading cost Redis by command.</summary>
    private sealed record FanOut(
        Measure Measure, IReadOnlyDictionary<string, Delivery> Groups, IReadOnlyDictionary<string, int> Counts, IReadOnlyDictionary<string, (double Calls, double Micros)> Commands)
    {
        /// <summary>One group's figures: its latency and what each of its subscribers received.</summary>
        public Measure Group(string group) => Groups.TryGetValue(group, out var d)
            ? Measure.Of(("p50 ms", d.P50Ms), ("p99 ms", d.P99Ms), ("p99.9 ms", d.P999Ms), (PerSubscriber, d.Delivered / d.Seconds / Counts[group]), ("readings missed %", d.MissedPercent))
            : Measure.Of(("p50 ms", double.NaN), ("p99 ms", double.NaN), ("p99.9 ms", double.NaN), (PerSubscriber, double.NaN), ("readings missed %", double.NaN));
    }

    /// <summary>
    /// N subscribers split evenly over <paramref name="nodes"/> (node 1's are "same node", the others' "cross node"), a
    /// device on node 1 sending <paramref name="deliveries"/> / N readings a second; <paramref name="redis"/> is sampled
    /// around the device's run when the nodes are on it.
    /// </summary>
    private static async Task<FanOut> FanOutAsync(RedisServerProcess? redis, IReadOnlyList<BenchTarget> nodes, int subscribers, double deliveries, TimeSpan warmup, TimeSpan duration)
    {
        var sensor = Clients.NewSensor("redis-fanout");
        await Task.WhenAll(nodes.Select(x => x.RegisterSensorAsync(sensor)));
        var placement = nodes.Select((node, i) => (i == 0 ? ClusterSubscribers.SameNode : ClusterSubscribers.CrossNode, node, subscribers / nodes.Count + (i < subscribers % nodes.Count ? 1 : 0)));
        await using var clients = await ClusterSubscribers.ConnectAsync(placement, Protocol.MessagePack, sensor);
        var token = await nodes[0].DevTokenAsync(Roles.Device);
        await using var device = await Device.LaunchAsync(nodes[0], sensor, deliveries / subscribers, batch: 1, warmup + duration + TimeSpan.FromSeconds(5), token);

        var redisBefore = redis is null ? null : await redis.SampleAsync();
        await device.GoAsync();
        await Task.Delay(warmup);
        var nodesStart = await Task.WhenAll(nodes.Select(x => x.SampleAsync()));
        var redisStart = redis is null ? null : await redis.SampleAsync();
        clients.Start();
        await Task.Delay(duration);
        // The servers' interval ends before the subscribers stop: tearing their streams down is not part of it.
        var nodesEnd = await Task.WhenAll(nodes.Select(x => x.SampleAsync()));
        var redisEnd = redis is null ? null : await redis.SampleAsync();
        var groups = await clients.StopAsync();
        var sent = await device.StopAsync(TimeSpan.FromSeconds(60));
        var redisAfter = redis is null ? null : await redis.SampleAsync();

        var all = groups.Values.ToArray();
        var seconds = all[0].Seconds;
        var delivered = all.Sum(d => d.Delivered);
        var missed = all.Sum(d => d.Missed);
        var values = new List<(string, double)> { (ReadingsPerSecond, delivered / seconds) };
        foreach (var (group, d) in groups)
            values.Add(($"{PerSubscriber}, {group}", d.Delivered / d.Seconds / clients.Counts[group]));
        foreach (var (group, d) in groups)
            values.AddRange([($"p50 ms, {group}", d.P50Ms), ($"p99 ms, {group}", d.P99Ms)]);
        values.Add(("readings missed %", delivered + missed == 0 ? double.NaN : 100.0 * missed / (delivered + missed)));
        values.Add(("nodes CPU %", nodesStart.Zip(nodesEnd).Sum(p => DeliveryWindow.Share(p.Second.CpuSeconds - p.First.CpuSeconds, (double)(p.Second.Timestamp - p.First.Timestamp) / Stopwatch.Frequency))));
        values.Add(("load generator CPU %", all[0].CpuPercent));
        var commands = new Dictionary<string, (double, double)>();
        if (redisBefore is not null && redisAfter is not null && redisStart is not null && redisEnd is not null)
        {
            var published = Math.Max(sent.Accepted, 1);
            var run = redisAfter.CommandsSince(redisBefore);
            values.Add(("Redis CPU %", DeliveryWindow.Share(redisEnd.CpuSeconds - redisStart.CpuSeconds, redisEnd.SecondsSince(redisStart))));
            values.Add(("Redis CPU µs per reading", (redisAfter.CpuSeconds - redisBefore.CpuSeconds) * 1e6 / published));
            values.Add((CommandsPerReading, run.Values.Sum(c => c.Calls) / (double)published));
            values.Add((ScriptCallsPerReading, ScriptCalls(run) / (double)published));
            commands = run.ToDictionary(c => c.Key, c => (c.Value.Calls / (double)published, c.Value.Micros / (double)published));
        }
        values.Add(("device sent/s", sent.Sent / sent.Seconds));
        values.Add(("device accepted %", sent.Sent == 0 ? double.NaN : 100.0 * sent.Accepted / sent.Sent));
        return new FanOut(Measure.Of([.. values]), groups, clients.Counts, commands);
    }

    /// <summary>One device stream flat out through <c>PublishBatches</c> on <paramref name="node"/>, nobody subscribed.</summary>
    private static async Task<Measure> ThroughputAsync(RedisServerProcess? redis, BenchTarget node, TimeSpan duration)
    {
        var sensor = Clients.NewSensor("redis-throughput");
        await node.RegisterSensorAsync(sensor);
        var token = await node.DevTokenAsync(Roles.Device);
        await using var device = await Device.LaunchAsync(node, sensor, 0, RedisScenarios.ThroughputBatch, duration, token);
        var nodeBefore = await node.SampleAsync();
        var redisBefore = redis is null ? null : await redis.SampleAsync();
        await device.GoAsync();
        var sent = await device.WaitDoneAsync(duration + TimeSpan.FromSeconds(60));
        var nodeAfter = await node.SampleAsync();
        var redisAfter = redis is null ? null : await redis.SampleAsync();

        var published = Math.Max(sent.Accepted, 1);
        var values = new List<(string, double)>
        {
            (ReadingsPerSecond, sent.Accepted / sent.ResultSeconds),
            ("device sent/s", sent.Sent / sent.Seconds),
            ("device accepted %", sent.Sent == 0 ? double.NaN : 100.0 * sent.Accepted / sent.Sent),
            ("node CPU %", DeliveryWindow.Share(nodeAfter.CpuSeconds - nodeBefore.CpuSeconds, (double)(nodeAfter.Timestamp - nodeBefore.Timestamp) / Stopwatch.Frequency)),
        };
        if (redisBefore is not null && redisAfter is not null)
        {
            var run = redisAfter.CommandsSince(redisBefore);
            values.Add(("Redis CPU %", DeliveryWindow.Share(redisAfter.CpuSeconds - redisBefore.CpuSeconds, redisAfter.SecondsSince(redisBefore))));
            values.Add(("Redis CPU µs per reading", (redisAfter.CpuSeconds - redisBefore.CpuSeconds) * 1e6 / published));
            values.Add((CommandsPerReading, run.Values.Sum(c => c.Calls) / (double)published));
            values.Add((ScriptCallsPerReading, ScriptCalls(run) / (double)published));
        }
        return Measure.Of([.. values]);
    }

    /// <summary>Calls of scripts (<c>EVAL</c>, <c>EVALSHA</c>, <c>FCALL</c> and their read-only forms).</summary>
    private static long ScriptCalls(IReadOnlyDictionary<string, (long Calls, long Micros)> commands) =>
        commands.Where(c => c.Key.StartsWith("eval", StringComparison.Ordinal) || c.Key.StartsWith("fcall", StringComparison.Ordinal)).Sum(c => c.Value.Calls);

    private static void AddRows(Report report, Section section, string scenario, Measure a, Measure? b)
    {
        foreach (var (metric, value) in a.Values)
            AddRow(report, section, scenario, metric, value, b is null ? double.NaN : Value(b, metric) ?? double.NaN);
    }

    private static void AddRow(Report report, Section section, string scenario, string metric, double a, double b)
    {
        var row = new Row(section, scenario, metric, a, b);
        report.Rows.Add(row);
        var line = $"{scenario,-60} {metric,-38} {section.ALabel} {Report.Format(a),10}";
        if (section.BLabel is not null)
            line += $"  {section.BLabel} {Report.Format(b),10}";
        if (section.BLabel is not null && section.Ratio)
            line += $"  ratio {Report.Format(row.Ratio)}";
        Console.WriteLine(line);
    }

    private static double? Value(Measure measure, string metric) =>
        measure.Values.Where(v => v.Key == metric).Select(v => (double?)v.Value).FirstOrDefault();

    /// <summary>Each metric's median over the runs (the first run's metrics, in its order); <see langword="null"/> without runs.</summary>
    private static Measure? Median(IEnumerable<Measure> runs)
    {
        var all = runs.ToArray();
        if (all.Length == 0)
            return null;
        return Measure.Of([.. all[0].Values.Select(v => (v.Key, MedianOf(all.Select(m => Value(m, v.Key) ?? double.NaN).Where(x => !double.IsNaN(x)))))]);

        static double MedianOf(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            if (sorted.Length == 0)
                return double.NaN;
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    private static string Nodes(int count) => count == 1 ? "1 node" : $"{count} nodes";

    /// <summary>How N subscribers split over k nodes: "100 + 100 + 100".</summary>
    private static string Split(int subscribers, int nodes) =>
        string.Join(" + ", Enumerable.Range(0, nodes).Select(i => subscribers / nodes + (i < subscribers % nodes ? 1 : 0)));
}
