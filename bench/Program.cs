using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using SensorHub.Bench.Driving;
using SensorHub.Bench.Serving;
using SensorHub.Contracts;

namespace SensorHub.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench -- smoke|quick|path|all [--only TEXT] [--sensorhub URL --baseline URL]</c>
/// drives SensorHub and a plain SignalR baseline side by side; <c>redis</c> drives SensorHub nodes on a redis-server of
/// its own (<see cref="RedisBench"/>; <c>smoke</c> runs a slice of it); <c>many</c> and <c>mqtt</c> measure issue 16's
/// <c>SubscribeMany</c> against one <c>Subscribe</c> per sensor (<see cref="ManyScenario"/>) and the MQTT ingest
/// against <c>Publish</c> (<see cref="MqttScenario"/>), SensorHub against itself on servers of their own (<c>smoke</c>
/// runs a slice of each); <c>csv</c> measures issue 17's CSV processing in rows/s, long and wide, against today's
/// long-form processing (<see cref="CsvBench"/>; <c>smoke</c> runs a slice); <c>micro</c> runs the engine micro-benchmarks;
/// <c>serve sensorhub|baseline</c> is one server under test (the driver starts both itself unless given their URLs);
/// <c>device</c> is a device publishing to one of them (the driver starts it for each path run).
/// </summary>
internal static class BenchProgram
{
    private const string Usage =
        "usage: SensorHub.Bench smoke|quick|path|all [--only TEXT] [--sensorhub URL --baseline URL] [--idle-hold SECONDS]\n" +
        "       SensorHub.Bench redis [--only TEXT] [--rounds N]\n" +
        "       SensorHub.Bench many|mqtt|csv [--only TEXT]\n" +
        "       SensorHub.Bench micro [BenchmarkDotNet args]\n" +
        "       SensorHub.Bench serve sensorhub|baseline [--url http://127.0.0.1:5100] [--stdin] [--set Key=Value]...\n" +
        "       SensorHub.Bench device --hub URL --sensor ID --rate R --batch B --seconds T [--token TOKEN] [--protocol json|messagepack]";

    private static readonly Section s_versusBaseline = new("SensorHub vs plain SignalR", "SensorHub", "baseline");
    private static readonly Section s_path = new("The path users take: a device process publishing, SensorHub vs the plain SignalR stream", "SensorHub", "baseline");
    private static readonly Section s_responsiveness = new("Responsiveness: SensorHub with a CSV upload vs without", "with upload", "without");
    private const string Issue16Title = "SensorHub: many sensors in one stream, and the MQTT ingest";
    private const string Issue17Title = "SensorHub: CSV processing, long and wide";

    public static async Task<int> Main(string[] args)
    {
        var mode = args.FirstOrDefault() ?? "smoke";
        var options = Options(args.Skip(1));
        switch (mode)
        {
            case "micro":
                var artifacts = Path.Combine(BenchFolder(), "results", "BenchmarkDotNet.Artifacts");
                BenchmarkRunner.Run([typeof(EngineBenchmarks), typeof(StreamBenchmarks)], DefaultConfig.Instance.WithArtifactsPath(artifacts), args.Skip(1).ToArray());
                return 0;
            case "device":
                return await Device.RunAsync(options);
            case "serve" when args.Length > 1 && Enum.TryParse<ServerKind>(args[1], ignoreCase: true, out var kind):
                return await BenchServer.RunAsync(kind, options.GetValueOrDefault("--url", "http://127.0.0.1:5100"), options.ContainsKey("--stdin"), SetOptions(args));
        }
        if (RunSettings.For(mode) is not { } settings)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (settings.Redis is not null && !settings.Versus && settings.Many is null && settings.Mqtt is null)
        {
            var rounds = options.TryGetValue("--rounds", out var text) && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : (int?)null;
            return await RedisBench.RunModeAsync(mode, settings, options.GetValueOrDefault("--only"), rounds);
        }
        return await RunAsync(mode, settings, options);
    }

    /// <summary>Runs the mode's scenarios; exits 1 when a round failed other than by a stalled load generator (the tables are written all the same).</summary>
    private static async Task<int> RunAsync(string mode, RunSettings settings, Dictionary<string, string> options)
    {
        // Hundreds of consumers on 2 cores: start with enough pool threads that the driver's timers and HTTP calls
        // never wait for the pool to grow.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        var only = options.GetValueOrDefault("--only");
        bool Selected(string scenario) => only is null || scenario.Contains(only, StringComparison.OrdinalIgnoreCase);

        // A run that needs the JavaScript load generator and cannot have it fails at once, saying what is missing,
        // rather than skipping those rows or failing each of them later.
        var needsNode = settings.Path is { } p
            && (p.Cases.Any(c => c.Client == SubscriberClient.Js && Selected(c.ToString())) || p.IdleConnections.Any(n => Selected(PathScenarios.IdleName(n))));
        if (needsNode && JsSubscribers.MissingPrerequisite() is { } missing)
        {
            Console.Error.WriteLine($"{mode}: cannot run the JavaScript subscribers: {missing}.");
            return 1;
        }

        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        // The two servers side by side, for the modes that compare them; the many-sensor and MQTT scenarios start
        // servers of their own.
        await using var sensorHub = !settings.Versus ? null : options.TryGetValue("--sensorhub", out var shUrl)
            ? BenchTarget.Attach(ServerKind.SensorHub, new Uri(shUrl))
            : await BenchTarget.LaunchAsync(ServerKind.SensorHub);
        await using var baseline = !settings.Versus ? null : options.TryGetValue("--baseline", out var blUrl)
            ? BenchTarget.Attach(ServerKind.Baseline, new Uri(blUrl))
            : await BenchTarget.LaunchAsync(ServerKind.Baseline);

        var command = $"dotnet run -c Release --project bench -- {mode}" + (only is null ? "" : $" --only \"{only}\"");
        var report = new Report(mode, command, started, settings.Notes(), settings.Versus ? null : settings.Csv is not null ? Issue17Title : Issue16Title);
        var hardFailures = 0;

        // A (the first) then B each round, medians over rounds.
        async Task Compare(Section section, string scenario, int rounds, Func<Task<Measure>> a, Func<Task<Measure>> b)
        {
            if (!Selected(scenario))
                return;
            // A round that fails (a connection reset under load, a timeout, a stalled load generator) is reported and
            // left out, not fatal: a long run keeps its other rows, and a row with no good round shows n/a.
            var aRuns = new List<Measure>();
            var bRuns = new List<Measure>();
            for (var round = 0; round < rounds; round++)
            {
                await RunRoundAsync(a, aRuns, section.ALabel, round);
                await RunRoundAsync(b, bRuns, section.BLabel ?? "B", round);
            }
            foreach (var metric in aRuns.Concat(bRuns).FirstOrDefault()?.Values.Select(v => v.Key) ?? [])
            {
                var row = new Row(section, scenario, metric, Median(aRuns.Select(m => m[metric])), Median(bRuns.Select(m => m[metric])));
                report.Rows.Add(row);
                Console.WriteLine($"{scenario,-60} {metric,-38} {section.ALabel} {Report.Format(row.A),10}  {section.BLabel} {Report.Format(row.B),10}  ratio {Report.Format(row.Ratio)}");
            }

            async Task RunRoundAsync(Func<Task<Measure>> run, List<Measure> runs, string label, int round)
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        var clock = Stopwatch.StartNew();
                        runs.Add(await run());
                        // Progress in a long run, and where its time goes.
                        Console.WriteLine($"  {scenario}: {label}, round {round + 1}: {clock.Elapsed.TotalSeconds:F1} s");
                        return;
                    }
                    catch (Exception ex)
                    {
                        report.Failures.Add($"{scenario}, {label}, round {round + 1}, attempt {attempt}: {ex.GetType().Name}: {ex.Message}");
                        Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
                        // A stalled load generator is retried once; anything else is a failure of the tool or the server.
                        if (ex is not StalledRunException)
                            hardFailures++;
                        if (ex is not StalledRunException || attempt == 2)
                            return;
                    }
                }
            }
        }

        Task Versus(Section section, string scenario, int rounds, Func<BenchTarget, Task<Measure>> run) =>
            Compare(section, scenario, rounds, () => run(sensorHub!), () => run(baseline!));

        // Both servers' code paths are jitted and tiered up before anything is measured; nothing is kept. A warm-up that
        // fails is said and passed over: the rounds after it show whether the failure lasts, and a long run keeps the
        // rows it has made.
        async Task WarmUpAsync(Func<BenchTarget, Task<Measure>> run)
        {
            foreach (var target in new[] { sensorHub!, baseline! })
            {
                try
                {
                    await run(target);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    if (ex is not StalledRunException)
                        Console.Error.WriteLine($"warm-up on {target.Name} failed: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }

        var hold = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--idle-hold", "0"), System.Globalization.CultureInfo.InvariantCulture));

        // The path users take first: its rows are the issue's table.
        if (settings.Path is { } path)
        {
            if (path.WarmUp && path.Cases.Any(c => Selected(c.ToString())))
            {
                Console.WriteLine("warming up both servers' publish and subscribe paths");
                foreach (var c in PathScenarios.WarmUpCases(needsNode ? SubscriberClient.Js : SubscriberClient.DotNet))
                    await WarmUpAsync(t => PathScenario.RunAsync(t, c, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1)));
            }
            foreach (var c in path.Cases)
                await Versus(s_path, c.ToString(), path.Rounds, t => PathScenario.RunAsync(t, c, path.Warmup, path.Duration));
            foreach (var n in path.IdleConnections)
                await Versus(s_path, PathScenarios.IdleName(n), path.Rounds, t => IdleScenario.RunJsAsync(t, n, hold));
        }

        if (settings.Current is { } current)
        {
            var rounds = current.Rounds;
            var fanOutCases = current.FanOutCases();
            if (current.WarmUp && fanOutCases.Any(c => Selected(c.ToString())))
            {
                Console.WriteLine("warming up both servers' in-process fan-out");
                foreach (var protocol in new[] { Protocol.Json, Protocol.MessagePack })
                    foreach (var method in new[] { SensorHubMethods.Subscribe, SensorHubMethods.SubscribeBatches })
                    {
                        var c = new FanOutCase(20, Heavy: true, protocol, method, BaselineGroup: method == SensorHubMethods.SubscribeBatches);
                        await WarmUpAsync(t => FanOutScenario.RunAsync(t, c, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)));
                    }
            }

            foreach (var c in fanOutCases)
                await Versus(s_versusBaseline, c.ToString(), rounds, t => FanOutScenario.RunAsync(t, c, current.Warmup, current.Duration));
            foreach (var n in current.IdleConnections)
            {
                await Versus(s_versusBaseline, $"idle: {n} connections, no stream", rounds, t => IdleScenario.RunAsync(t, n, withStream: false, hold));
                await Versus(s_versusBaseline, $"idle: {n} connections, 1 stream each", rounds, t => IdleScenario.RunAsync(t, n, withStream: true, hold));
            }
            await Versus(s_versusBaseline, $"cancellation: {current.CancelAtOnce} subscriptions cancelled at once", rounds,
                t => CancellationScenario.AllAtOnceAsync(t, current.CancelAtOnce));
            await Versus(s_versusBaseline, $"cancellation: {current.CancelOneByOne} subscriptions cancelled one by one", rounds,
                t => CancellationScenario.OneByOneAsync(t, current.CancelOneByOne));
            foreach (var chunk in new[] { 64 * 1024, 1024 * 1024 })
            {
                await Versus(s_versusBaseline, $"upload {current.UploadBytes >> 20} MiB, {chunk / 1024} KiB chunks, MessagePack", rounds,
                    t => UploadScenario.RunAsync(t, chunk, current.UploadBytes));
            }

            var window = TimeSpan.Zero;
            var responsiveness = $"1,000 readings/s to 1 subscriber; {current.CsvBytes / 1_000_000} MB CSV upload";
            if (current.WarmUp && Selected(responsiveness))
            {
                // One unmeasured run with a smaller upload first: run alone (--only), the first round otherwise paid for
                // compiling the upload and CSV path on a fresh server (p99 122 ms against 8 ms in a full run), and with
                // two rounds that one is half the median. In a full run the uploads before it have warmed it already.
                try
                {
                    await ResponsivenessScenario.RunAsync(sensorHub!, Math.Min(current.CsvBytes, 20_000_000), window: null);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Console.Error.WriteLine($"responsiveness warm-up failed: {ex.GetType().Name}: {ex.Message}");
                }
            }
            await Compare(s_responsiveness, responsiveness, rounds,
                async () =>
                {
                    var with = await ResponsivenessScenario.RunAsync(sensorHub!, current.CsvBytes, window: null);
                    window = TimeSpan.FromSeconds(with["window s"]);
                    return with;
                },
                () => ResponsivenessScenario.RunAsync(sensorHub!, 0, window));
        }

        // Issue 16: SubscribeMany against one Subscribe per sensor, SensorHub against itself on a server of its own.
        if (settings.Many is { } many && many.Cases().Any(c => Selected(c.ToString())))
        {
            var clock = Stopwatch.StartNew();
            var (server, sensors) = await ManyScenario.StartServerAsync(many.Sensors);
            await using (server)
            {
                Console.WriteLine($"many: a SensorHub of its own (pid {server.Pid}) with {sensors.Length} sensors ready in {clock.Elapsed.TotalSeconds:F1} s");
                if (many.WarmUp)
                {
                    var warm = new ManyCase(many.Sensors, 1, Heavy: true, many.RatesPerSensor[^1]);
                    foreach (var subscribeMany in new[] { true, false })
                    {
                        try
                        {
                            await ManyScenario.RunAsync(server, sensors, warm, subscribeMany, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(500));
                        }
                        catch (Exception ex) when (ex is not OutOfMemoryException)
                        {
                            Console.Error.WriteLine($"many: warm-up failed: {ex.GetType().Name}: {ex.Message}");
                        }
                    }
                }
                var section = new Section(
                    $"Many sensors in one stream: one SubscribeMany on `#` vs one Subscribe per sensor, on the same connection (SensorHub against itself)",
                    "1 SubscribeMany", $"{many.Sensors} × Subscribe");
                foreach (var c in many.Cases())
                {
                    await Compare(section, c.ToString(), many.Rounds,
                        () => ManyScenario.RunAsync(server, sensors, c, many: true, many.Warmup, many.Duration),
                        () => ManyScenario.RunAsync(server, sensors, c, many: false, many.Warmup, many.Duration));
                }
            }
        }

        // Issue 16: readings taken in from an MQTT broker, against the same readings sent through Publish. Without
        // mosquitto, or in a build without the ingest, skipped, saying so.
        if (settings.Mqtt is { } mqtt)
        {
            if (MqttScenario.MissingPrerequisite() is { } noMqtt)
            {
                Console.WriteLine($"mqtt: skipped: {noMqtt}");
                report.Findings.Add($"The MQTT scenarios were skipped: {noMqtt}.");
            }
            else
            {
                hardFailures += await MqttScenario.RunAsync(report, mqtt, Selected, Compare);
            }
        }

        // Issue 17: CSV processing in rows/s, long and wide, beside the recorded long-form baseline.
        if (settings.Csv is { } csv)
            hardFailures += await CsvBench.RunAsync(report, csv, Selected, Compare);

        // Issue 14's Redis scenarios (smoke runs a slice): without a redis-server they are skipped, saying so, since
        // they are not what the rest of the run measures.
        if (settings.Redis is { } redis)
        {
            if (RedisServerProcess.MissingPrerequisite() is { } noRedis)
            {
                Console.WriteLine($"redis: skipped: {noRedis}");
                report.Findings.Add($"The Redis scenarios were skipped: {noRedis}.");
            }
            else
            {
                hardFailures += await RedisBench.RunAsync(report, redis, Selected);
            }
        }

        var verdicts = Targets.Judge(report.Rows);
        // Only a full `all` is the committed run (results/latest); any other, or a part of one, writes beside it.
        var name = only is null ? settings.ResultName : $"{mode}-only";
        var directory = Path.Combine(BenchFolder(), "results");
        report.Write(directory, name, total.Elapsed, verdicts);
        foreach (var finding in report.Findings)
            Console.WriteLine($"note: {finding}");
        foreach (var v in verdicts)
            Console.WriteLine($"target: {v.Target}: {v.Measured}: {(v.Met ? "met" : "MISSED")}");
        Console.WriteLine($"{mode}: {report.Rows.Count} rows, {report.Failures.Count} failed rounds, in {total.Elapsed.TotalSeconds:F0} s; wrote {Path.Combine(directory, name)}.md and .json");
        return hardFailures == 0 ? 0 : 1;
    }

    /// <summary>Every <c>--set Key=Value</c> (it may repeat, unlike the other options): settings a <c>serve</c> process overrides.</summary>
    private static Dictionary<string, string> SetOptions(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--set" && args[i + 1].IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
                settings[args[i + 1][..equals]] = args[i + 1][(equals + 1)..];
        }
        return settings;
    }

    private static Dictionary<string, string> Options(IEnumerable<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string? key = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                key = arg;
                options[key] = "";
            }
            else if (key is not null)
            {
                options[key] = arg;
                key = null;
            }
        }
        return options;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The bench's own folder (where SensorHub.Bench.csproj is), found from the running program.</summary>
    internal static string BenchFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SensorHub.Bench.csproj")))
                return dir.FullName;
        return Path.Combine(Directory.GetCurrentDirectory(), "bench");
    }
}
