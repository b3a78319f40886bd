using System.Text;
using System.Text.Json;
using SensorHub.Contracts;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Tests.Uploads;

/// <summary>Runs the log processor over text or a fixture, without a server, for the <c>Log*Tests</c>.</summary>
internal static class LogProcessing
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);

    /// <summary>A fixture's bytes, from <c>Uploads/Fixtures/logs/</c> beside the tests.</summary>
    public static byte[] Fixture(string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Uploads", "Fixtures", "logs", name));

    /// <summary>The summary of <paramref name="bytes"/> fed in the given chunks (all of it by default).</summary>
    public static async Task<LogSummary> SummarizeAsync(byte[] bytes, int maxSamples = 10, IEnumerable<int>? chunkSizes = null)
    {
        var processor = new LogProcessor(maxSamples);
        await FeedAsync(processor, bytes, chunkSizes);
        await processor.CompleteAsync(publisher: null, CancellationToken.None);
        return processor.Summarize(new UploadResult()).Log!;
    }

    public static Task<LogSummary> SummarizeAsync(string text, int maxSamples = 10) => SummarizeAsync(Encoding.UTF8.GetBytes(text), maxSamples);

    /// <summary>Feeds the bytes in chunks of the given sizes in turn, cycling through them (one chunk of all by default).</summary>
    public static async Task FeedAsync(LogProcessor processor, ReadOnlyMemory<byte> bytes, IEnumerable<int>? chunkSizes = null)
    {
        using var sizes = (chunkSizes ?? [int.MaxValue]).GetEnumerator();
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (!sizes.MoveNext())
            {
                sizes.Reset();
                sizes.MoveNext();
            }
            var size = Math.Min(Math.Max(sizes.Current, 1), bytes.Length - offset);
            await processor.ProcessAsync(bytes.Slice(offset, size), publisher: null, CancellationToken.None);
            offset += size;
        }
    }

    /// <summary>A checkpoint as the upload record keeps it: through JSON, as the file store writes it.</summary>
    public static ProcessingCheckpoint RoundTrip(ProcessingCheckpoint checkpoint) =>
        JsonSerializer.Deserialize<ProcessingCheckpoint>(JsonSerializer.Serialize(checkpoint, s_web), s_web)!;

    /// <summary>A summary as text, its samples included (records compare arrays by reference).</summary>
    public static string Describe(LogSummary summary) => JsonSerializer.Serialize(summary, s_web);

    public static (long Lines, long Entries, long Errors, long Warnings, long Infos, long Debug, long Other, string Format) Counts(LogSummary log) =>
        (log.Lines, log.Entries, log.Errors, log.Warnings, log.Infos, log.Debug, log.Other, log.Format);
}
