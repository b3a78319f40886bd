using SensorHub.Bench.Driving;

namespace SensorHub.Bench;

internal sealed record TargetVerdict(string Target, string Measured, bool Met);

/// <summary>The issue's targets, judged from a run's rows; a target whose rows the run did not make is left out.</summary>
internal static class Targets
{
    public static IReadOnlyList<TargetVerdict> Judge(IReadOnlyList<Row> rows)
    {
        var verdicts = new List<TargetVerdict>();
        IEnumerable<Row> Find(string scenarioStart, string metric) =>
            rows.Where(r => r.Scenario.StartsWith(scenarioStart, StringComparison.Ordinal) && r.Metric == metric);

        foreach (var protocol in new[] { "Json", "MessagePack" })
        {
            foreach (var r in Find($"fan-out N=1000 heavy {protocol} Subscribe vs baseline stream", FanOutScenario.ReadingsPerSecond))
                verdicts.Add(new($"heavy fan-out N=1000 {protocol}: Subscribe ≥ 1.0× baseline stream", $"{Report.Format(r.Ratio)}×", r.Ratio >= 1.0));
            foreach (var r in Find($"fan-out N=1000 heavy {protocol} SubscribeBatches vs baseline stream", FanOutScenario.ReadingsPerSecond))
                verdicts.Add(new($"heavy fan-out N=1000 {protocol}: SubscribeBatches ≥ 3× baseline stream", $"{Report.Format(r.Ratio)}×", r.Ratio >= 3.0));
        }
        foreach (var r in rows.Where(r => r.Scenario.StartsWith("fan-out N=1000 light", StringComparison.Ordinal)
                     && r.Scenario.EndsWith("vs baseline stream", StringComparison.Ordinal) && r.Metric == "p99 ms"))
            verdicts.Add(new($"{r.Scenario.Replace(" vs baseline stream", "", StringComparison.Ordinal)}: p99 ≤ 15 ms", $"{Report.Format(r.A)} ms", r.A <= 15));
        foreach (var r in Find("idle: ", "server heap KB/conn").Where(r => r.Scenario.Contains("1 stream", StringComparison.Ordinal)))
            verdicts.Add(new($"{r.Scenario}: ≤ 16 KB per connection (managed heap)", $"{Report.Format(r.A)} KB", r.A <= 16));
        foreach (var r in Find("cancellation: ", "p99 ms cancel to finally"))
            verdicts.Add(new($"{r.Scenario}: p99 cancel to finally ≤ 5 ms", $"{Report.Format(r.A)} ms", r.A <= 5));
        foreach (var r in Find("upload 500 MiB", "server peak working set above idle MB"))
            verdicts.Add(new($"{r.Scenario}: peak memory within a few MB (≤ 8 MB) of idle", $"{Report.Format(r.A)} MB", r.A <= 8));
        return verdicts;
    }
}
