using System.Globalization;
using System.Text;
using CsCheck;
using SensorHub.Server.Uploads.Processing;
using static SensorHub.Tests.Uploads.LogProcessing;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// How a log arrives does not change its summary: fed in chunks of any sizes, or stopped at any point and made again
/// from its checkpoint (through JSON, as the upload record keeps it), a file is summarised as if fed whole.
/// </summary>
public sealed class LogChunkingTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SENSORHUB_PROPERTY_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : 300;

    /// <summary>Every fixture's lines.</summary>
    private static readonly string[] s_fixtureLines =
    [
        .. new[] { "aspnetcore.log", "nginx.log", "serilog.log", "json.log", "syslog.log", "log4j.log", "python.log" }
            .SelectMany(f => Encoding.UTF8.GetString(Fixture(f)).Split('\n', StringSplitOptions.RemoveEmptyEntries)),
    ];

    /// <summary>Lines that move the continuation state or split characters, drawn as often as all the fixtures' lines.</summary>
    private static readonly string[] s_stateLines =
    [
        "", "   ", "\t", "Traceback (most recent call last):", "  File \"x.py\", line 1", "ValueError: ERROR ünïcödé ✓",
        "Caused by: java.io.IOException", "... 3 more", "java.lang.IllegalStateException: 𝄞", "0 errors found", "é ERROR €",
        "{\"level\":\"warn\",\"msg\":\"✓\"}", "During handling of the above exception, another exception occurred:",
    ];

    /// <summary>Multi-line entries whole, so that a stop often falls inside one.</summary>
    private static readonly string[] s_entries =
    [
        "ERROR:root:x\nTraceback (most recent call last):\n  File \"x.py\", line 1\n    x()\nKeyError: 'x'",
        "Traceback (most recent call last):\n\n  File \"x.py\", line 1\nplain ERROR line ends it",
        "fail: A.B[1]\n      message\n\n      System.Exception: x\n         at A.B()",
        "2026-11-30 03:00:06,402 ERROR [main] c.x.Y - m\njava.lang.IllegalStateException: x\n\tat c.x.Y.z(Y.java:1)\nCaused by: java.io.IOException\n... 1 more",
    ];

    private static readonly Gen<string> GenLine = Gen.Frequency(
        (2, Gen.Int[0, s_fixtureLines.Length - 1].Select(i => s_fixtureLines[i])),
        (2, Gen.Int[0, s_stateLines.Length - 1].Select(i => s_stateLines[i])),
        (1, Gen.Int[0, s_entries.Length - 1].Select(i => s_entries[i])));

    private static readonly Gen<byte[]> GenFile = Gen.Select(
        GenLine.Array[0, 30],
        Gen.Bool,
        Gen.Bool,
        (lines, crlf, lastNewline) =>
        {
            var text = string.Join('\n', lines) + (lastNewline && lines.Length > 0 ? "\n" : "");
            return Encoding.UTF8.GetBytes(crlf ? text.Replace("\n", "\r\n", StringComparison.Ordinal) : text);
        });

    [Fact]
    public Task ChunkSizesDoNotChangeTheSummary() =>
        Gen.Select(GenFile, Gen.Int[1, 64].Array[1, 8]).SampleAsync(
            async (bytes, sizes) =>
            {
                var whole = Describe(await SummarizeAsync(bytes));
                var chunked = Describe(await SummarizeAsync(bytes, chunkSizes: sizes));
                Assert.Equal(whole, chunked);
            },
            iter: Iterations);

    [Fact]
    public Task AProcessorMadeFromACheckpointAtAnyLineGoesOnAsIfItHadNeverStopped() =>
        Gen.Select(GenFile, Gen.Double[0, 1], Gen.Int[1, 64].Array[1, 8]).SampleAsync(
            async (bytes, where, sizes) =>
            {
                var whole = Describe(await SummarizeAsync(bytes));
                // Stopped anywhere: its checkpoint is at the end of the last whole line before the cut.
                var cut = (int)(where * bytes.Length);
                var before = new LogProcessor(maxSamples: 10);
                await FeedAsync(before, bytes.AsMemory(0, cut), sizes);
                var checkpoint = RoundTrip(before.Checkpoint);
                var after = new LogProcessor(maxSamples: 10, checkpoint);
                await FeedAsync(after, bytes.AsMemory((int)checkpoint.Bytes), sizes);
                await after.CompleteAsync(publisher: null, CancellationToken.None);

                Assert.Equal(whole, Describe(after.Summarize(new SensorHub.Contracts.UploadResult()).Log!));
            },
            iter: Iterations);
}
