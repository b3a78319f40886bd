using System.Globalization;
using NodaTime;
using SensorHub.Contracts;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>How timestamps of a CSV are read: by value (<see cref="Detect"/>) or as the request's <c>csv.timestampFormat</c> says.</summary>
internal enum CsvTimestampKind
{
    /// <summary>ISO 8601, or a Unix time told apart by magnitude (see <see cref="CsvTimestamps"/>).</summary>
    Detect,
    Iso8601,
    UnixSeconds,
    UnixMilliseconds,
    /// <summary>A .NET custom date-and-time format, read with the invariant culture.</summary>
    Custom,
}

/// <summary>
/// A request's <see cref="CsvOptions"/> once checked: what the processor needs, ready to use. Made at
/// <c>BeginUpload</c> (where a bad option is refused) and again from the record whenever a processor is made.
/// </summary>
internal sealed record CsvSettings
{
    /// <summary>Longest <c>csv.timestampFormat</c> accepted.</summary>
    public const int MaxFormatLength = 64;

    /// <summary>Detection everywhere, no prefix, UTC: a request without <c>csv</c>.</summary>
    public static CsvSettings Default { get; } = new();

    /// <summary>The delimiter given, or <see langword="null"/>: detected from the first line.</summary>
    public char? Delimiter { get; init; }

    /// <summary>Put before every sensor id the file names; empty for none.</summary>
    public string SensorPrefix { get; init; } = "";

    /// <summary>The zone of timestamps without an offset; <see langword="null"/>: UTC.</summary>
    public DateTimeZone? TimeZone { get; init; }

    public CsvTimestampKind TimestampKind { get; init; }

    /// <summary>The custom format when <see cref="TimestampKind"/> is <see cref="CsvTimestampKind.Custom"/>.</summary>
    public string? TimestampFormat { get; init; }

    /// <summary>
    /// Checks <paramref name="options"/>: the settings, or <see langword="null"/> and <paramref name="problem"/>, a
    /// sentence naming the field (<c>request.csv.delimiter</c> …) and what is wrong with it.
    /// </summary>
    public static CsvSettings? TryCreate(CsvOptions? options, out string? problem)
    {
        problem = null;
        if (options is null)
            return Default;
        char? delimiter = options.Delimiter switch
        {
            null => null,
            "," or ";" or "\t" or "|" => options.Delimiter[0],
            _ => null,
        };
        if (options.Delimiter is not null && delimiter is null)
        {
            problem = $"request.csv.delimiter must be one of ',', ';', '\\t' (tab) or '|'; it was {Shown(options.Delimiter)}.";
            return null;
        }
        var prefix = options.SensorPrefix ?? "";
        // The prefix is checked as the start of an id: with one more character it must be a valid id.
        if (prefix.Length > 0 && !SensorId.IsValid(prefix + "x", out var idProblem))
        {
            problem = $"request.csv.sensorPrefix {Shown(prefix)} cannot start a sensor id: an id with it {idProblem}.";
            return null;
        }
        DateTimeZone? zone = null;
        if (options.TimeZone is { } zoneId)
        {
            zone = zoneId.Length <= 64 ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(zoneId) : null;
            if (zone is null)
            {
                problem = $"request.csv.timeZone {Shown(zoneId)} is not an IANA time zone id (such as 'Europe/Berlin' or 'UTC').";
                return null;
            }
        }
        var (kind, format) = options.TimestampFormat switch
        {
            null => (CsvTimestampKind.Detect, null),
            "iso8601" => (CsvTimestampKind.Iso8601, null),
            "unixSeconds" => (CsvTimestampKind.UnixSeconds, null),
            "unixMilliseconds" => (CsvTimestampKind.UnixMilliseconds, null),
            var custom => (CsvTimestampKind.Custom, custom),
        };
        if (format is not null && !IsUsableFormat(format))
        {
            problem = $"request.csv.timestampFormat {Shown(format)} is neither 'iso8601', 'unixSeconds', 'unixMilliseconds' nor a .NET custom date-and-time format (such as 'dd.MM.yyyy HH:mm:ss') of at most {MaxFormatLength} characters that reads back what it writes.";
            return null;
        }
        return new CsvSettings { Delimiter = delimiter, SensorPrefix = prefix, TimeZone = zone, TimestampKind = kind, TimestampFormat = format };
    }

    /// <summary>The settings of a request already checked (a record's): a bad one is a corrupt record.</summary>
    public static CsvSettings From(CsvOptions? options) =>
        TryCreate(options, out var problem) ?? throw new ArgumentException(problem, nameof(options));

    /// <summary>
    /// A custom format is usable when a date written with it is read back: a one-letter standard format ("d", "G")
    /// depends on no culture here but is refused too, being no custom format, as are formats that drop the date.
    /// </summary>
    private static bool IsUsableFormat(string format)
    {
        if (format.Length is 0 or > MaxFormatLength || format.Length == 1 || format.Any(char.IsControl))
            return false;
        // A date unlike today's: a format without a date reads back today.
        var sample = new DateTime(1999, 12, 31, 13, 4, 5, DateTimeKind.Unspecified);
        try
        {
            var text = sample.ToString(format, CultureInfo.InvariantCulture);
            return DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var back)
                && back.Date == sample.Date;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string Shown(string text) =>
        text.Length <= 64 && !text.Any(char.IsControl) ? $"'{text}'" : $"({text.Length} characters, not shown)";
}
