using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SensorHub.Bench;

/// <summary>
/// A group of rows compared the same way: what column A and column B hold. Without <paramref name="BLabel"/> a row has
/// one value (A); without <paramref name="Ratio"/> A and B are two figures side by side, not to be divided.
/// </summary>
internal sealed record Section(string Title, string ALabel, string? BLabel, bool Ratio = true);

internal sealed record Row(Section Section, string Scenario, string Metric, double A, double B)
{
    public double Ratio => !Section.Ratio || Section.BLabel is null || B == 0 || double.IsNaN(A) || double.IsNaN(B) ? double.NaN : A / B;
}

/// <summary>The run's rows and its verdicts on the issue's targets, written as markdown and JSON.</summary>
internal sealed class Report(string mode, string command, DateTimeOffset started, IReadOnlyList<string> notes, string? title = null)
{
    /// <summary>Notes the run adds as it learns them (below the mode's own).</summary>
    public List<string> Findings { get; } = [];

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public List<Row> Rows { get; } = [];

    /// <summary>Rounds that failed and were left out of their rows' medians.</summary>
    public List<string> Failures { get; } = [];

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}";

    public static string Format(double value) =>
        double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture)
        : value.ToString("0.###", CultureInfo.InvariantCulture);

    public void Write(string directory, string name, TimeSpan elapsed, IReadOnlyList<TargetVerdict> verdicts)
    {
        Directory.CreateDirectory(directory);
        var md = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"# {title ?? "SensorHub vs plain SignalR"} ({mode})")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- Date: {started:yyyy-MM-dd HH:mm} UTC; run took {elapsed.TotalMinutes:F1} min; `{command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Machine()}");
        foreach (var note in notes.Concat(Findings))
            md.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        if (verdicts.Count > 0)
        {
            md.AppendLine().AppendLine("## Targets").AppendLine()
                .AppendLine("| target | measured | verdict |")
                .AppendLine("|---|---|---|");
            foreach (var v in verdicts)
                md.AppendLine(CultureInfo.InvariantCulture, $"| {v.Target} | {v.Measured} | {(v.Met ? "met" : "**missed**")} |");
        }
        if (Failures.Count > 0)
        {
            md.AppendLine().AppendLine("## Failed rounds (left out of the medians)").AppendLine();
            foreach (var failure in Failures)
                md.AppendLine(CultureInfo.InvariantCulture, $"- {failure}");
        }
        foreach (var section in Rows.Select(r => r.Section).Distinct())
        {
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## {section.Title}").AppendLine();
            if (section.BLabel is null)
                md.AppendLine(CultureInfo.InvariantCulture, $"| scenario | metric | {section.ALabel} |").AppendLine("|---|---|---:|");
            else if (!section.Ratio)
                md.AppendLine(CultureInfo.InvariantCulture, $"| scenario | metric | {section.ALabel} | {section.BLabel} |").AppendLine("|---|---|---:|---:|");
            else
                md.AppendLine(CultureInfo.InvariantCulture, $"| scenario | metric | {section.ALabel} | {section.BLabel} | ratio |").AppendLine("|---|---|---:|---:|---:|");
            foreach (var r in Rows.Where(r => r.Section == section))
            {
                md.Append(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Metric} | {Format(r.A)} |");
                if (section.BLabel is not null)
                    md.Append(CultureInfo.InvariantCulture, $" {Format(r.B)} |");
                if (section.BLabel is not null && section.Ratio)
                    md.Append(CultureInfo.InvariantCulture, $" {Format(r.Ratio)} |");
                md.AppendLine();
            }
        }
        File.WriteAllText(Path.Combine(directory, $"{name}.md"), md.ToString());

        var json = JsonSerializer.Serialize(new
        {
            mode,
            command,
            date = started,
            machine = Machine(),
            notes = notes.Concat(Findings),
            targets = verdicts,
            failures = Failures,
            rows = Rows.Select(r => new
            {
                section = r.Section.Title,
                r.Scenario,
                r.Metric,
                a = r.Section.ALabel,
                aValue = Finite(r.A),
                b = r.Section.BLabel,
                bValue = Finite(r.B),
                ratio = Finite(r.Ratio),
            }),
        }, s_json);
        File.WriteAllText(Path.Combine(directory, $"{name}.json"), json);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
