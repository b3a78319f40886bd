using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using SensorHub.Contracts;

namespace SensorHub.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench -- smoke|quick|all|micro</c>. Hosts SensorHub (its real
/// <c>AddSensorHub</c>/<c>MapSensorHub</c>) and a plain SignalR baseline in this process on 127.0.0.1,
/// runs each scenario on both (A B per round), and reports medians and the SensorHub/baseline ratio.
/// </summary>
internal static class BenchProgram
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    private sealed record Row(string Scenario, string Metric, double SensorHub, double Baseline, double Ratio);

    private sealed record Settings(int Rounds, TimeSpan Warmup, TimeSpan Duration, int[] FanOutN, bool[] Loads, Protocol[] Protocols,
        int CancelSubscriptions, int IdleConnections, long UploadBytes);

    public static async Task<int> Main(string[] args)
    {
        var mode = args.FirstOrDefault() ?? "smoke";
        if (mode == "micro")
        {
            var artifacts = Path.Combine(FindRepoBench(), "results", "BenchmarkDotNet.Artifacts");
            BenchmarkRunner.Run<EngineBenchmarks>(DefaultConfig.Instance.WithArtifactsPath(artifacts), args.Skip(1).ToArray());
            return 0;
        }
        var settings = mode switch
        {
            "smoke" => new Settings(1, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(700), [10], [false, true],
                [Protocol.Json, Protocol.MessagePack], 50, 50, 4L << 20),
            "quick" => new Settings(3, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1.5), [100], [false, true],
                [Protocol.Json, Protocol.MessagePack], 1000, 1000, 64L << 20),
            "all" => new Settings(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), [1, 100, 1000], [false, true],
                [Protocol.Json, Protocol.MessagePack], 1000, 1000, 256L << 20),
            _ => null,
        };
        if (settings is null)
        {
            Console.Error.WriteLine("usage: SensorHub.Bench smoke|quick|all|micro [BenchmarkDotNet args]");
            return 2;
        }

        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        await using var sensorHub = await Target.StartSensorHubAsync();
        await using var baseline = await Target.StartBaselineAsync();
        var rows = new List<Row>();

        async Task Compare(string scenario, Func<Target, Task<Measure>> run)
        {
            var a = new List<Measure>();
            var b = new List<Measure>();
            for (var round = 0; round < settings.Rounds; round++)
            {
                a.Add(await run(sensorHub));
                b.Add(await run(baseline));
            }
            foreach (var metric in a[0].Values.Keys)
            {
                var sh = Median(a.Select(m => m.Values[metric]));
                var bl = Median(b.Select(m => m.Values[metric]));
                var row = new Row(scenario, metric, sh, bl, bl == 0 ? double.NaN : sh / bl);
                rows.Add(row);
                Console.WriteLine($"{row.Scenario,-52} {row.Metric,-22} SensorHub {Format(sh),10}  baseline {Format(bl),10}  ratio {Format(row.Ratio)}");
            }
        }

        foreach (var n in settings.FanOutN)
            foreach (var heavy in settings.Loads)
                foreach (var protocol in settings.Protocols)
                    foreach (var c in new FanOutCase[]
                    {
                        new(n, heavy, protocol, SensorHubMethods.Subscribe),
                        new(n, heavy, protocol, SensorHubMethods.SubscribeBatches),
                        new(n, heavy, protocol, SensorHubMethods.Subscribe, BaselineGroup: true),
                    })
                    {
                        await Compare(c.ToString(), t => Scenarios.FanOutAsync(t, c, settings.Warmup, settings.Duration));
                    }
        await Compare($"cancellation: {settings.CancelSubscriptions} subscriptions", t => Scenarios.CancellationAsync(t, settings.CancelSubscriptions));
        await Compare($"idle: {settings.IdleConnections} connections, 1 stream each", t => Scenarios.IdleAsync(t, settings.IdleConnections));
        foreach (var chunk in new[] { 64 * 1024, 1024 * 1024 })
            await Compare($"upload {settings.UploadBytes >> 20} MiB, {chunk / 1024} KiB chunks, MessagePack", t => Scenarios.UploadAsync(t, chunk, settings.UploadBytes));

        Write(mode, settings, started, total.Elapsed, rows);
        Console.WriteLine($"{mode}: {rows.Count} rows in {total.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Format(double value) => double.IsNaN(value) ? "n/a" : value >= 100 ? value.ToString("N0") : value.ToString("0.###");

    private static string Machine() =>
        $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}";

    private static void Write(string mode, Settings settings, DateTimeOffset started, TimeSpan elapsed, List<Row> rows)
    {
        var directory = Path.Combine(FindRepoBench(), "results");
        Directory.CreateDirectory(directory);
        // smoke keeps its own file; a real run (quick = short, all = full) is the latest table.
        var name = mode == "smoke" ? "smoke" : "latest";
        var md = new StringBuilder()
            .AppendLine($"# SensorHub vs plain SignalR ({mode})")
            .AppendLine()
            .AppendLine(mode == "all" ? "Full run." : $"**Short run ({mode}): few rounds, short windows, small N; indicative only, not the issue's full matrix.**")
            .AppendLine()
            .AppendLine($"- Date: {started:yyyy-MM-dd HH:mm} UTC; run took {elapsed.TotalSeconds:F0} s; `dotnet run -c Release --project bench -- {mode}`")
            .AppendLine($"- Machine: {Machine()}")
            .AppendLine($"- {settings.Rounds} round(s) per row, A (SensorHub) then B (baseline) each round; medians. Fan-out: warm-up {settings.Warmup.TotalSeconds} s, measured {settings.Duration.TotalSeconds} s.")
            .AppendLine("- Servers and clients share this one process: CPU % is the whole process (servers + load generator) over all cores; memory per connection includes the client side of each connection.")
            .AppendLine("- Ratio = SensorHub / baseline (higher is better for readings/s and MB/s, lower is better for latency, CPU, memory and time).")
            .AppendLine()
            .AppendLine("| scenario | metric | SensorHub | baseline | ratio |")
            .AppendLine("|---|---|---:|---:|---:|");
        foreach (var r in rows)
            md.AppendLine($"| {r.Scenario} | {r.Metric} | {Format(r.SensorHub)} | {Format(r.Baseline)} | {Format(r.Ratio)} |");
        File.WriteAllText(Path.Combine(directory, $"{name}.md"), md.ToString());
        var json = JsonSerializer.Serialize(new
        {
            mode,
            date = started,
            machine = Machine(),
            rounds = settings.Rounds,
            rows = rows.Select(r => new { r.Scenario, r.Metric, sensorHub = Nan(r.SensorHub), baseline = Nan(r.Baseline), ratio = Nan(r.Ratio) }),
        }, s_json);
        File.WriteAllText(Path.Combine(directory, $"{name}.json"), json);
        Console.WriteLine($"wrote {Path.Combine(directory, name)}.md and .json");
    }

    private static double? Nan(double value) => double.IsNaN(value) || double.IsInfinity(value) ? null : value;

    private static string FindRepoBench()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SensorHub.Bench.csproj")))
                return dir.FullName;
        return Path.Combine(Directory.GetCurrentDirectory(), "bench");
    }
}
