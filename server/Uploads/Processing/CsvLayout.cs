using System.Globalization;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// How a CSV file is read, decided once from its first record and kept in the checkpoint
/// (<see cref="ProcessingCheckpoint.CsvState"/>), so that a resumed or restarted upload reads the rest the same way.
/// </summary>
/// <remarks>
/// The first record is a header when one of its fields is a known column name, or when none of them reads as a number
/// or a timestamp. A header then decides the layout, by its names (case-insensitive, after unquoting and trimming):
/// <list type="number">
/// <item>a sensor id column (<c>sensorId</c>, <c>sensor</c>, <c>id</c>), a timestamp column (<c>timestamp</c>,
/// <c>time</c>, <c>ts</c>) and a <c>value</c> column, in any order: long; other columns are ignored (but a header of
/// exactly those three in the old order keeps the old rule of exactly three fields per row);</item>
/// <item>a timestamp column and neither a sensor id nor a value column: wide, every other column (with a name) a sensor;</item>
/// <item>three columns, at least one of them a known name standing where the old form has it, and no known name
/// elsewhere (<c>id,time,reading</c>): the old positional <c>sensorId,timestamp,value</c>, the header skipped, so files
/// that worked before still do; three unknown names (<c>datetime,temp,rh</c>) are not read positionally;</item>
/// <item>anything else is refused: every row is rejected with <see cref="Refusal"/>, which says what the header lacks.</item>
/// </list>
/// Without a header: the old positional form, exactly three fields.
/// </remarks>
internal sealed record CsvLayout
{
    public const string Long = "long";
    public const string Wide = "wide";

    private static readonly string[] s_sensorNames = ["sensorId", "sensor", "id"];
    private static readonly string[] s_timestampNames = ["timestamp", "time", "ts"];
    private static readonly string[] s_valueNames = ["value"];

    /// <summary>The field delimiter: <c>,</c>, <c>;</c>, <c>\t</c> or <c>|</c>.</summary>
    public string Delimiter { get; init; } = ",";

    /// <summary><see cref="Long"/>, <see cref="Wide"/>, or empty when the header was refused.</summary>
    public string Kind { get; init; } = Long;

    /// <summary>Whether line 1 is a header.</summary>
    public bool Header { get; init; }

    /// <summary>The header's column names as read (unquoted, trimmed); empty without a header.</summary>
    public string[] Columns { get; init; } = [];

    /// <summary>Long: the sensor id column (from 0).</summary>
    public int SensorColumn { get; init; }

    /// <summary>The timestamp column (from 0).</summary>
    public int TimestampColumn { get; init; } = 1;

    /// <summary>Long: the value column (from 0).</summary>
    public int ValueColumn { get; init; } = 2;

    /// <summary>The old form: exactly three fields, <c>sensorId,timestamp,value</c>.</summary>
    public bool Positional { get; init; } = true;

    /// <summary>Why the header cannot be read; every row is rejected with it. <see langword="null"/> when it can.</summary>
    public string? Refusal { get; init; }

    /// <summary>The delimiter the settings give, or the one of <c>,</c> <c>;</c> tab found most often outside quotes in <paramref name="firstRecord"/> (<c>,</c> on a tie or when none is).</summary>
    public static char DelimiterOf(ReadOnlySpan<char> firstRecord, CsvSettings settings)
    {
        if (settings.Delimiter is { } given)
            return given;
        int commas = 0, semicolons = 0, tabs = 0;
        var quoted = false;
        foreach (var c in firstRecord)
        {
            switch (c)
            {
                case '"': quoted = !quoted; break;
                case ',' when !quoted: commas++; break;
                case ';' when !quoted: semicolons++; break;
                case '\t' when !quoted: tabs++; break;
            }
        }
        return semicolons > commas && semicolons >= tabs ? ';' : tabs > commas && tabs > semicolons ? '\t' : ',';
    }

    /// <summary>The layout of a file whose first record has <paramref name="fields"/>.</summary>
    public static CsvLayout Of(char delimiter, string[] fields, CsvTimestamps timestamps)
    {
        var delimiterText = delimiter.ToString();
        var named = fields.Any(f => IsOneOf(f, s_sensorNames) || IsOneOf(f, s_timestampNames) || IsOneOf(f, s_valueNames));
        var header = named || !fields.Any(f => f.Length > 0 && (IsNumber(f) || timestamps.Read(f, out _) is not null));
        if (!header)
            return new CsvLayout { Delimiter = delimiterText };

        var sensor = IndexOf(fields, s_sensorNames);
        var time = IndexOf(fields, s_timestampNames);
        var value = IndexOf(fields, s_valueNames);
        var layout = new CsvLayout { Delimiter = delimiterText, Header = true, Columns = fields };
        // The old form's own header (sensorId,timestamp,value) keeps the old form's rule of exactly three fields.
        if (sensor >= 0 && time >= 0 && value >= 0)
            return layout with { Positional = (sensor, time, value, fields.Length) == (0, 1, 2, 3), SensorColumn = sensor, TimestampColumn = time, ValueColumn = value };
        if (time >= 0 && sensor < 0 && value < 0)
            return layout with { Kind = Wide, Positional = false, SensorColumn = -1, TimestampColumn = time, ValueColumn = -1 };
        // Positional only when a known name vouches for it: three unknown names (datetime,temp,rh) are no old header.
        if (fields.Length == 3 && sensor is -1 or 0 && time is -1 or 1 && value is -1 or 2 && (sensor == 0 || time == 1 || value == 2))
            return layout;
        return layout with { Kind = "", Positional = false, Refusal = RefusalOf(fields.Length, sensor, time, value) };
    }

    private static string RefusalOf(int columns, int sensor, int time, int value)
    {
        const string Expected = "a long file needs a sensor id (sensorId, sensor or id), a timestamp (timestamp, time or ts) and a value column; a wide file a timestamp column and one column per sensor";
        if (time < 0)
            return $"the header names no timestamp column (timestamp, time or ts) among its {columns} columns; {Expected}; a header of three unknown names is not read positionally as sensorId,timestamp,value: name the timestamp column timestamp, time or ts, or remove the header";
        if (sensor >= 0 && value < 0)
            return $"the header names a sensor id column but no value column; {Expected}";
        if (sensor < 0)
            return $"the header names a value column but no sensor id column; {Expected}";
        return $"the header cannot be read; {Expected}";
    }

    private static int IndexOf(string[] fields, string[] names) => Array.FindIndex(fields, f => IsOneOf(f, names));

    private static bool IsOneOf(string field, string[] names) =>
        names.Any(n => n.Equals(field, StringComparison.OrdinalIgnoreCase));

    private static bool IsNumber(string field) =>
        double.TryParse(field.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
