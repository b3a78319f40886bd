using System.Text;
using System.Text.Json.Nodes;
using SensorHub.Contracts;
using SensorHub.Server.Uploads.Processing;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Uploads.LogProcessing;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// A log's summary across a stop: made again from its checkpoint, the processor goes on inside a multi-line entry or a
/// traceback as if it had never stopped, over a restarted server too; a checkpoint saved before entries existed still reads.
/// </summary>
public sealed class LogResumeTests
{
    /// <summary>A file whose lines are cut inside an ASP.NET entry's message, a Java stack trace and a Python traceback.</summary>
    private const string MultiLine =
        "info: Microsoft.Hosting.Lifetime[14]\n" +
        "      Now listening on: http://127.0.0.1:5080\n" +
        "fail: SensorHub.Server.Uploads.UploadWorker[4105]\n" +
        "      Processing of upload 8c1f failed\n" +
        "      System.IO.IOException: The disk is full.\n" +
        "\n" +
        "         at SensorHub.Server.Uploads.UploadFileStore.WriteAsync()\n" +
        "2026-11-30 03:00:06,402 ERROR [poller-1] c.e.sensorhub.Poller - Poll failed\n" +
        "java.lang.IllegalStateException: connection reset\n" +
        "\tat com.example.sensorhub.Poller.poll(Poller.java:42)\n" +
        "Caused by: java.net.SocketException: Connection reset\n" +
        "... 2 more\n" +
        "ERROR:root:poll failed\n" +
        "Traceback (most recent call last):\n" +
        "  File \"/opt/bridge/poller.py\", line 42, in poll\n" +
        "\n" +
        "ConnectionError: reset\n" +
        "WARNING:root:ünïcödé ✓ after the traceback\n" +
        "Traceback (most recent call last):\n" +
        "  File \"/opt/bridge/poller.py\", line 44, in poll\n" +
        "RuntimeError: ERROR in the message, still the traceback's\n" +
        "plain";

    [Fact]
    public async Task AProcessorMadeFromACheckpointAtEveryByteGoesOnAsIfItHadNeverStopped()
    {
        var bytes = Encoding.UTF8.GetBytes(MultiLine);
        var whole = await SummarizeAsync(bytes, maxSamples: 2);
        var states = new HashSet<(bool, bool)>();

        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var before = new LogProcessor(maxSamples: 2);
            await FeedAsync(before, bytes.AsMemory(0, cut));
            var checkpoint = RoundTrip(before.Checkpoint);
            states.Add((checkpoint.LogState!.EntryAbove, checkpoint.LogState.InTraceback));
            var after = new LogProcessor(maxSamples: 2, checkpoint);
            await FeedAsync(after, bytes.AsMemory((int)checkpoint.Bytes));
            await after.CompleteAsync(publisher: null, CancellationToken.None);

            Assert.Equal(Describe(whole), Describe(after.Summarize(new UploadResult()).Log!));
        }

        Assert.Equal((22L, 6L, 3L, 1L, 1L, 0L, 1L, "aspnetcore"), Counts(whole));
        Assert.Equal([3L, 8L], whole.FirstErrors.Select(e => e.Line));
        // The cuts fell at the start, inside entries, and inside a traceback.
        Assert.Equal([(false, false), (true, false), (true, true)], states.Order());
    }

    public static TheoryData<string, bool> Cuts => new()
    {
        // Where the first server stops (mid-line), and whether the checkpoint is then inside a traceback.
        { "      System.IO.IOException: The di", false },
        { "  File \"/opt/bridge/poller.py\", line 42, in po", true },
    };

    [Theory]
    [MemberData(nameof(Cuts))]
    public async Task LogSummaryIsTheSameAfterARestartInsideAnEntryOrATraceback(string stopInside, bool inTraceback)
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var bytes = Encoding.UTF8.GetBytes(MultiLine);
        var cut = Encoding.UTF8.GetByteCount(MultiLine[..(MultiLine.IndexOf(stopInside, StringComparison.Ordinal) + stopInside.Length)]);
        var (head, tail) = (bytes[..cut], bytes[cut..]);
        string uploadId;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "multi.log", ContentType = "text/plain", TotalBytes = bytes.Length,
            })).UploadId;
            await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(head, 7), cts.Token).WaitAsync(Timeouts.Default);
        }
        var saved = await ReadCheckpointAsync(folder, uploadId, cts.Token);

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        var done = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks(tail, 7), cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal((true, inTraceback, "aspnetcore"), ((bool)saved["logState"]!["entryAbove"]!, (bool)saved["logState"]!["inTraceback"]!, (string)saved["log"]!["format"]!));
        Assert.True(done.Complete);
        Assert.Equal(Describe(await SummarizeAsync(bytes)), Describe(done.Log!));
    }

    [Fact]
    public async Task ACheckpointFromBeforeEntriesCountsItsLinesAsEntries()
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var head = Encoding.UTF8.GetBytes("INFO a\n\nERROR b\n");
        var tail = Encoding.UTF8.GetBytes("  continued\n[03:00:02 WRN] c\n");
        string uploadId;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "old.log", ContentType = "text/plain", TotalBytes = head.Length + tail.Length,
            })).UploadId;
            await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks([head]), cts.Token).WaitAsync(Timeouts.Default);
        }
        // As an earlier server saved it: no logState, and a summary without entries, debug or format, whose "other"
        // counted the blank line.
        var recordFile = Path.Combine(folder.Path, uploadId + ".json");
        var record = JsonNode.Parse(await File.ReadAllTextAsync(recordFile, cts.Token))!.AsObject();
        record["processed"] = JsonNode.Parse("""
            {
              "bytes": 16, "lines": 3,
              "log": { "lines": 3, "errors": 1, "warnings": 0, "infos": 1, "other": 1, "firstErrors": [{ "line": 3, "text": "ERROR b" }] },
              "csv": null
            }
            """);
        await File.WriteAllTextAsync(recordFile, record.ToJsonString(), cts.Token);

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        var done = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks([tail]), cts.Token).WaitAsync(Timeouts.Default);

        // The three counted lines stay three entries; "  continued" belongs to the entry above; the format is still
        // recognised, at line 5.
        Assert.Equal(16, head.Length);
        Assert.Equal((5L, 4L, 1L, 1L, 1L, 0L, 1L, "serilog"), Counts(done.Log!));
        Assert.Equal([(3L, "ERROR b")], done.Log!.FirstErrors.Select(e => (e.Line, e.Text)));
    }

    private static async Task<JsonNode> ReadCheckpointAsync(SharedDataFolder folder, string uploadId, CancellationToken cancellationToken) =>
        JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder.Path, uploadId + ".json"), cancellationToken))!["processed"]!;
}
