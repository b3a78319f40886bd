using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Property-based test (CsCheck) of the CSV processor's chunking and resume: a random file (long with a reordered
/// header and quoted notes holding delimiters, escaped quotes and line breaks, headerless, wide, or semicolon with
/// decimal commas; good, bad and blank rows; <c>\n</c> or <c>\r\n</c>) fed in random chunks, stopped at a random byte,
/// its checkpoint taken through JSON as the upload record keeps it, and the rest fed in other random chunks to a
/// processor made from it, publishes the same readings and gives the same summary as the file fed whole.
/// </summary>
/// <remarks><c>SENSORHUB_PROPERTY_ITERATIONS</c> sets the number of cases (default 300); <c>CsCheck_Seed</c> replays a printed seed.</remarks>
public sealed class CsvChunkingPropertyTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SENSORHUB_PROPERTY_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : 300;

    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);

    private static readonly string[] s_sensors = ["s/a", "s/b", "s/c", "w/a", "w/b", "w/c"];

    private static readonly Gen<Row> GenRow = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 2], Gen.Int[-50, 50], Gen.Int[0, 5], (kind, sensor, value, note) => new Row(kind, sensor, value, note));

    private static readonly Gen<Scenario> GenScenario = Gen.Select(
        Gen.Int[0, 3], GenRow.Array[0, 25], Gen.Bool, Gen.Int[1, 40].Array[1, 6], Gen.Int[1, 40].Array[1, 6], Gen.Double[0, 1],
        (layout, rows, crlf, before, after, stop) => new Scenario(layout, rows, crlf, before, after, stop));

    [Fact]
    public Task RandomChunksAndAResumeAtARandomCheckpointPublishWhatTheWholeFileDoes() =>
        GenScenario.SampleAsync(RunAsync, iter: Iterations, print: s => s.ToString());

    private static async Task RunAsync(Scenario scenario)
    {
        var bytes = Encoding.UTF8.GetBytes(scenario.Render());

        using var whole = new CsvTestRun();
        var expected = await whole.RunAsync(bytes, maxSamples: 1_000);

        using var resumed = new CsvTestRun();
        var first = resumed.Create(maxSamples: 1_000);
        var stop = (int)(scenario.Stop * bytes.Length);
        foreach (var chunk in Cut(bytes.AsMemory(0, stop), scenario.ChunksBefore))
            await first.ProcessAsync(chunk, Publisher.Server, CancellationToken.None);
        var checkpoint = JsonSerializer.Deserialize<ProcessingCheckpoint>(JsonSerializer.Serialize(first.Checkpoint, s_web), s_web)!;
        var second = resumed.Create(maxSamples: 1_000, from: checkpoint);
        foreach (var chunk in Cut(bytes.AsMemory((int)checkpoint.Bytes), scenario.ChunksAfter))
            await second.ProcessAsync(chunk, Publisher.Server, CancellationToken.None);
        await second.CompleteAsync(Publisher.Server, CancellationToken.None);
        var actual = second.Summarize(new UploadResult()).Csv!;

        Assert.Equal(
            (expected.Layout, expected.Delimiter, expected.Header, expected.Rows, expected.Accepted, expected.Rejected),
            (actual.Layout, actual.Delimiter, actual.Header, actual.Rows, actual.Accepted, actual.Rejected));
        Assert.Equal(expected.FirstRejections, actual.FirstRejections);
        foreach (var sensor in s_sensors)
            Assert.Equal(await whole.ReadingsAsync(sensor), await resumed.ReadingsAsync(sensor));
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Cut(ReadOnlyMemory<byte> bytes, int[] sizes)
    {
        for (int at = 0, i = 0; at < bytes.Length; i++)
        {
            var size = Math.Min(sizes[i % sizes.Length], bytes.Length - at);
            yield return bytes.Slice(at, size);
            at += size;
        }
    }

    /// <summary>
    /// One row: <paramref name="Kind"/> 0-5 good, 6 a bad value, 7 a bad timestamp, 8 a blank line, 9 a good row with
    /// a value in quotes.
    /// </summary>
    private sealed record Row(int Kind, int Sensor, int Value, int Note);

    private sealed record Scenario(int Layout, Row[] Rows, bool Crlf, int[] ChunksBefore, int[] ChunksAfter, double Stop)
    {
        private static readonly string[] s_notes = ["plain", "with, a comma", "a \"\"quoted\"\" word", "two\nlines", "", "semi;colon"];

        public string Render()
        {
            var newline = Crlf ? "\r\n" : "\n";
            var text = new StringBuilder(Layout switch
            {
                0 => "value,note,sensorId,timestamp",
                1 => "",
                2 => "timestamp,w/a,w/b,w/c",
                _ => "sensorId;timestamp;value",
            });
            if (text.Length > 0)
                text.Append(newline);
            for (var i = 0; i < Rows.Length; i++)
            {
                var row = Rows[i];
                if (row.Kind == 8)
                {
                    text.Append(newline);
                    continue;
                }
                var timestamp = row.Kind == 7 ? "soon" : (1796007600 + i).ToString(CultureInfo.InvariantCulture);
                var value = row.Kind == 6 ? "x" : (row.Value / 4.0).ToString(CultureInfo.InvariantCulture);
                if (row.Kind == 9)
                    value = $"\"{value}\"";
                var sensor = $"s/{(char)('a' + row.Sensor)}";
                text.Append(Layout switch
                {
                    0 => $"{value},\"{s_notes[row.Note].Replace("\n", newline, StringComparison.Ordinal)}\",{sensor},{timestamp}",
                    1 => $"{sensor},{timestamp},{value}",
                    2 => $"{timestamp},{(row.Note % 3 == 0 ? "" : value)},{(row.Note % 2 == 0 ? "" : value)},{value}",
                    _ => $"{sensor};{timestamp};{value.Replace('.', ',')}",
                });
                if (i < Rows.Length - 1 || row.Note != 0)
                    text.Append(newline);
            }
            return text.ToString();
        }

        public override string ToString() =>
            $"layout {Layout}, stop {Stop:0.###}, chunks [{string.Join(',', ChunksBefore)}] then [{string.Join(',', ChunksAfter)}]:\n{Render()}";
    }
}
