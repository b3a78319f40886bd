using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Stats;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Issue 17: how fast an upload's CSV is processed, in rows and readings per second, two ways.
/// <list type="bullet">
/// <item><b>Processing</b> (<see cref="ProcessAsync"/>): the server's own <see cref="CsvProcessor"/> in the driver's
/// process, fed the file in chunks as the upload's worker feeds it, publishing every row through a real
/// <see cref="ReadingIngest"/> into the in-memory engine (no subscriber): what the processor costs, and nothing else.</item>
/// <item><b>Upload</b> (<see cref="UploadAsync"/>): the file through <c>BeginUpload</c> and <c>Upload</c> over the hub
/// (MessagePack) to a <c>serve sensorhub</c> process, timed until <c>Upload</c> answers, by when every row is
/// processed: what a user sees.</item>
/// </list>
/// </summary>
internal static class CsvScenario
{
    /// <summary>The chunk size the bench feeds and uploads: the SDK's and the dashboard's.</summary>
    public const int ChunkBytes = 64 * 1024;

    private const int MaxSamples = 20;

    /// <summary>The processor alone over <paramref name="file"/>, read into memory first so that no disk is timed.</summary>
    public static async Task<Measure> ProcessAsync(CsvFile file)
    {
        var bytes = await File.ReadAllBytesAsync(file.Path);
        using var ingest = new StandaloneIngest();
        var processor = new CsvProcessor(ingest.Ingest, MaxSamples);
        var publisher = new Publisher("bench", static _ => true);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        for (var offset = 0; offset < bytes.Length; offset += ChunkBytes)
        {
            await processor.ProcessAsync(bytes.AsMemory(offset, Math.Min(ChunkBytes, bytes.Length - offset)), publisher, CancellationToken.None);
            // The worker reads the checkpoint after every chunk to save it: part of the processing's cost.
            _ = processor.Checkpoint;
        }
        await processor.CompleteAsync(publisher, CancellationToken.None);
        var seconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        var cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var summary = processor.Summarize(new UploadResult()).Csv ?? new CsvSummary();
        return Figures(file, summary, seconds,
            ("driver CPU µs per row", cpu * 1e6 / file.Rows),
            ("allocated bytes per row", (double)allocated / file.Rows));
    }

    /// <summary>
    /// <paramref name="file"/> uploaded to <paramref name="server"/> in <see cref="ChunkBytes"/> chunks read from disk,
    /// timed from <c>BeginUpload</c> to <c>Upload</c>'s answer.
    /// </summary>
    public static async Task<Measure> UploadAsync(BenchTarget server, CsvFile file)
    {
        await using var connection = await server.ConnectAsync(Protocol.MessagePack, await server.DevTokenAsync("operator"));
        var before = await server.SampleAsync(collect: true);
        await server.ResetPeaksAsync();
        var clock = Stopwatch.StartNew();
        var status = await connection.InvokeAsync<UploadStatus>(SensorHubMethods.BeginUpload,
            new UploadRequest { Name = Path.GetFileName(file.Path), ContentType = "text/csv", TotalBytes = file.Bytes });
        var result = await connection.InvokeAsync<UploadResult>(SensorHubMethods.Upload, status.UploadId, 0L, ReadChunksAsync(file.Path));
        var seconds = clock.Elapsed.TotalSeconds;
        var after = await server.SampleAsync();
        if (result.Bytes != file.Bytes)
            throw new InvalidOperationException($"uploaded {result.Bytes} of {file.Bytes} bytes");
        return Figures(file, result.Csv ?? new CsvSummary(), seconds,
            ("server CPU µs per row", (after.CpuSeconds - before.CpuSeconds) * 1e6 / file.Rows),
            ("server peak working set above idle MB", (after.PeakWorkingSetBytes - before.WorkingSetBytes) / 1e6));
    }

    /// <summary>
    /// The figures both ways report. Rows and readings are the file's own (what it holds), so that a processor that
    /// rejects rows cannot look faster for it: readings accepted % says how many went in.
    /// </summary>
    private static Measure Figures(CsvFile file, CsvSummary summary, double seconds, params (string, double)[] more) =>
        Measure.Of(
        [
            ("rows/s", file.Rows / seconds),
            ("readings/s", summary.Accepted / seconds),
            ("MB/s", file.Bytes / 1e6 / seconds),
            ("seconds", seconds),
            ("readings accepted %", 100.0 * summary.Accepted / file.Readings),
            .. more,
        ]);

    private static async IAsyncEnumerable<byte[]> ReadChunksAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        while (true)
        {
            // A new array each time: SignalR may still be writing the last one out.
            var chunk = new byte[ChunkBytes];
            var read = await stream.ReadAtLeastAsync(chunk, ChunkBytes, throwOnEndOfStream: false);
            if (read == 0)
                yield break;
            yield return read == ChunkBytes ? chunk : chunk[..read];
        }
    }

    /// <summary>The in-memory engine and the ingest in front of it, as the server builds them, without a host.</summary>
    private sealed class StandaloneIngest : IDisposable
    {
        private readonly ShutdownSignal _shutdown = new();
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        private readonly InMemoryFeedEngine _engine;

        public StandaloneIngest()
        {
            var options = Options.Create(new FeedOptions());
            var registry = new SensorFeedRegistry(options, TimeProvider.System);
            _engine = new InMemoryFeedEngine(registry, options, _shutdown, NullLogger<InMemoryFeedEngine>.Instance);
            var refusals = new Refusals(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
            Ingest = new ReadingIngest(_engine, options, refusals, TimeProvider.System, NullLogger<ReadingIngest>.Instance);
        }

        public ReadingIngest Ingest { get; }

        public void Dispose()
        {
            _engine.Dispose();
            _shutdown.Dispose();
            _services.Dispose();
        }
    }
}
