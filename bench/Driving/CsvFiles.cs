using System.Globalization;
using System.Text;

namespace SensorHub.Bench.Driving;

/// <summary>A generated CSV file and what it holds: its data rows (the header left out) and the readings in them.</summary>
/// <param name="Layout"><c>long</c> (<c>sensorId,timestamp,value</c>) or <c>wide</c> (a timestamp, then a column per sensor).</param>
/// <param name="Readings">Long: one per row; wide: one per non-empty cell.</param>
internal sealed record CsvFile(string Path, string Layout, long Bytes, long Rows, long Readings, int Sensors);

/// <summary>
/// Writes the CSV scenario's files, the same bytes on every run and machine: no randomness, no clock. Every row is
/// valid: timestamps ISO 8601 UTC (<c>2026-11-01T00:00:00Z</c> on, one second per instant, all in the server's past),
/// values two-decimal numbers from a fixed hash of the row and column, sensor ids under <c>bench-csv/</c>.
/// </summary>
internal static class CsvFiles
{
    private static readonly DateTime s_start = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// The long layout with a header, <c>sensorId,timestamp,value</c>: each instant a row for each of
    /// <paramref name="sensors"/> sensors in turn (<c>bench-csv/long-000</c> …), as an export sorted by time has it,
    /// until the file reaches <paramref name="targetBytes"/> (it stops at the first row boundary past it).
    /// </summary>
    public static CsvFile WriteLong(string path, long targetBytes, int sensors)
    {
        var ids = Enumerable.Range(0, sensors).Select(s => $"bench-csv/long-{s:D3}").ToArray();
        using var file = Open(path);
        file.Write("sensorId,timestamp,value\n");
        long rows = 0;
        var text = new StringBuilder(64);
        for (long instant = 0; file.BaseStream.Position < targetBytes; instant++)
        {
            var timestamp = Timestamp(instant);
            for (var s = 0; s < sensors; s++, rows++)
            {
                text.Clear().Append(ids[s]).Append(',').Append(timestamp).Append(',');
                AppendValue(text, instant, s).Append('\n');
                file.Write(text);
            }
            file.Flush();
        }
        file.Flush();
        return new CsvFile(path, "long", file.BaseStream.Length, rows, rows, sensors);
    }

    /// <summary>
    /// The wide layout with a header, <c>timestamp,bench-csv/wide-00,…</c>: a row per instant, a column per sensor, and
    /// every tenth cell empty (the cell of row r and column c when (r + c) % 10 is 9: no reading), until the file
    /// reaches <paramref name="targetBytes"/>.
    /// </summary>
    public static CsvFile WriteWide(string path, long targetBytes, int columns)
    {
        using var file = Open(path);
        file.Write("timestamp");
        for (var c = 0; c < columns; c++)
            file.Write(string.Create(CultureInfo.InvariantCulture, $",bench-csv/wide-{c:D2}"));
        file.Write('\n');
        long rows = 0, readings = 0;
        var text = new StringBuilder(16 * (columns + 2));
        for (; file.BaseStream.Position < targetBytes; rows++)
        {
            text.Clear().Append(Timestamp(rows));
            for (var c = 0; c < columns; c++)
            {
                text.Append(',');
                if ((rows + c) % 10 == 9)
                    continue;
                AppendValue(text, rows, c);
                readings++;
            }
            file.Write(text.Append('\n'));
            if (rows % 64 == 63)
                file.Flush();
        }
        file.Flush();
        return new CsvFile(path, "wide", file.BaseStream.Length, rows, readings, columns);
    }

    private static StreamWriter Open(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16), new UTF8Encoding(false), 1 << 16);

    private static string Timestamp(long instant) =>
        s_start.AddSeconds(instant).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A value between 0.00 and 99.99 from a fixed hash (Knuth's multiplicative) of the row and the column.</summary>
    private static StringBuilder AppendValue(StringBuilder text, long row, int column)
    {
        var hundredths = (uint)((ulong)(row * 31 + column) * 2654435761UL % 10_000);
        return text.Append(hundredths / 100).Append('.').Append((hundredths % 100).ToString("D2", CultureInfo.InvariantCulture));
    }
}
