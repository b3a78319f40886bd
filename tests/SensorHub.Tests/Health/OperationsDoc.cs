using System.Text.RegularExpressions;

namespace SensorHub.Tests.Health;

/// <summary>The instrument table of docs/operations.md, as the tests read it.</summary>
public static partial class OperationsDoc
{
    /// <summary>One row: the instrument's name, kind (<c>Counter</c>, <c>ObservableCounter</c>, …), unit and attribute names.</summary>
    public sealed record Instrument(string Name, string Kind, string Unit, IReadOnlySet<string> Attributes)
    {
        /// <summary>
        /// The series names the OpenTelemetry Prometheus exporter gives it (checked by scraping it): dots become
        /// underscores, seconds and bytes are appended, units in braces are dropped, counters end in <c>_total</c>,
        /// histograms come as <c>_bucket</c>, <c>_sum</c> and <c>_count</c>, up-down counters as a gauge.
        /// </summary>
        public IEnumerable<string> PrometheusNames
        {
            get
            {
                var name = Name.Replace('.', '_') + Unit switch { "s" => "_seconds", "By" => "_bytes", _ => "" };
                return Kind switch
                {
                    "Counter" or "ObservableCounter" => [name + "_total"],
                    "Histogram" => [name + "_bucket", name + "_sum", name + "_count"],
                    _ => [name],
                };
            }
        }
    }

    /// <summary>The repository's root: the folder above the test's output that holds SensorHub.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "SensorHub.sln")))
                    return folder.FullName;
            }
            throw new InvalidOperationException("SensorHub.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The rows of the table under "## Instruments" in docs/operations.md.</summary>
    public static IReadOnlyList<Instrument> Instruments()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot, "docs", "operations.md"));
        var start = text.IndexOf("\n## Instruments", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/operations.md has no '## Instruments' section.");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? text[start..] : text[start..end];
        var rows = new List<Instrument>();
        foreach (Match row in Row().Matches(section))
        {
            var attributes = Code().Matches(row.Groups["attributes"].Value).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            rows.Add(new Instrument(row.Groups["name"].Value, row.Groups["kind"].Value.Trim(), row.Groups["unit"].Value, attributes));
        }
        return rows;
    }

    [GeneratedRegex(@"^\| `(?<name>sensorhub\.[a-z0-9_.]+)` \| (?<kind>[A-Za-z]+) \| `(?<unit>[^`]+)` \|(?<attributes>[^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex Row();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();
}
