using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

public sealed class UploadTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    private const int Chunk = 64 * 1024;

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task MultiMegabyteUploadReturnsItsHashAndDownloadReturnsTheSameBytes(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * 1024 * 1024 + 123);
        var sha256 = UploadStreams.Sha256Of(data);

        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "capture.bin", ContentType = "application/octet-stream", TotalBytes = data.Length, Sha256 = sha256,
        });
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token);
        var status = await connection.Hub.GetUploadStatusAsync(begun.UploadId);
        var downloaded = await connection.Hub.DownloadAsync(begun.UploadId, 0, cts.Token);
        var tail = await connection.Hub.DownloadAsync(begun.UploadId, data.Length - 1000, cts.Token);
        var listed = await connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads, cts.Token);

        Assert.Equal((0L, false, (string?)null), (begun.ReceivedBytes, begun.Complete, begun.Sha256));
        Assert.Equal(new UploadResult { UploadId = begun.UploadId, Bytes = data.Length, Sha256 = sha256, Complete = true }, result);
        Assert.Equal((data.Length, true, sha256, (string?)null), (status.ReceivedBytes, status.Complete, status.Sha256, status.Error));
        Assert.Equal(data, downloaded);
        Assert.Equal(data[^1000..], tail);
        Assert.Contains(status, listed);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadWithoutTotalBytesCompletesWhenTheStreamEnds(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(200_000);

        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "no-size.bin", ContentType = "application/octet-stream" });
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, 50_000), cts.Token);

        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
        Assert.Equal(data, await connection.Hub.DownloadAsync(begun.UploadId, 0, cts.Token));
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task DroppedUploadResumesFromItsStatusAndHashesTheWholeFile(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        var data = UploadStreams.RandomBytes(40 * Chunk + 777);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        string uploadId;
        await using (var first = await app.ConnectAsync(protocol))
        {
            uploadId = (await first.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "resumed.bin", ContentType = "application/octet-stream", TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data),
            })).UploadId;
            var upload = first.Hub.UploadAsync(uploadId, 0, SendThenHang(data, 15, cts.Token), cts.Token);
            await Timeouts.WaitUntilAsync(
                () => app.Services.GetStatus(uploadId).ReceivedBytes == 15 * Chunk, Timeouts.Default, "15 chunks on disk");

            first.Drop();

            await Assert.ThrowsAnyAsync<Exception>(() => upload.WaitAsync(Timeouts.Default));
        }

        await using var second = await app.ConnectAsync(protocol);
        // The writer lets go of the upload once the server has seen the connection go.
        UploadStatus status;
        UploadResult? result = null;
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (true)
        {
            status = await second.Hub.GetUploadStatusAsync(uploadId);
            try
            {
                result = await second.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks(data[(int)status.ReceivedBytes..], Chunk), cts.Token);
                break;
            }
            catch (HubException ex) when (SensorHubErrors.CodeOf(ex.Message) == SensorHubErrors.UploadHasWriter && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cts.Token);
            }
        }

        Assert.Equal(15 * Chunk, status.ReceivedBytes);
        Assert.False(status.Complete);
        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
        Assert.Equal(data, await second.Hub.DownloadAsync(uploadId, 0, cts.Token));
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task CsvRowsReachALiveSubscriberWhileTheUploadIsStillRunning(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId("csv");
        await app.Engine.PublishAsync(sensorId, 1);
        await using var uploader = await app.ConnectAsync(protocol);
        await using var viewer = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var firstRowsSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var live = Task.Run(async () =>
        {
            var readings = new List<Reading>();
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            await foreach (var reading in viewer.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, null, leave.Token))
            {
                readings.Add(reading);
                if (readings.Count == 3)
                    firstRowsSeen.TrySetResult();
                if (readings.Count == 6)
                    break;
            }
            await leave.CancelAsync();
            return readings;
        }, cts.Token);
        await Hubs.SubscribeTests.WaitForSubscriberAsync(app, sensorId);

        var begun = await uploader.Hub.BeginUploadAsync(new UploadRequest { Name = "readings.csv", ContentType = "text/csv" });
        var result = await uploader.Hub.UploadAsync(begun.UploadId, 0, Rows(), cts.Token);

        // The upload's second chunk is only sent once the subscriber has seen the first chunk's rows.
        async IAsyncEnumerable<byte[]> Rows()
        {
            yield return "sensorId,timestamp,value\n"u8.ToArray();
            yield return System.Text.Encoding.UTF8.GetBytes(
                $"{sensorId},2026-01-01T00:00:00Z,1.5\n{sensorId},1767225601000,2.5\n{sensorId},2026-01-01T00:00:02.250Z,3.5\n");
            await firstRowsSeen.Task.WaitAsync(Timeouts.Default);
            yield return System.Text.Encoding.UTF8.GetBytes(
                $"{sensorId},2026-01-01T00:00:03Z,4.5\nnot a row\n{sensorId},2026-01-01T00:00:04Z,oops\n{sensorId},2026-01-01T00:00:05Z,6.5\n{sensorId},2026-01-01T00:00:06Z,7.5");
        }

        var readings = await live;
        Assert.Equal([1.5, 2.5, 3.5, 4.5, 6.5, 7.5], readings.Select(r => r.Value));
        Assert.Equal(
            [new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc), new DateTime(2026, 1, 1, 0, 0, 2, 250, DateTimeKind.Utc)],
            readings.Take(3).Select(r => r.Timestamp));
        Sensors.AssertConsecutive(readings);
        Assert.True(result.Complete);
        var csv = Assert.IsType<CsvSummary>(result.Csv);
        Assert.Equal((8L, 6L, 2L), (csv.Rows, csv.Accepted, csv.Rejected));
        Assert.Equal([6L, 7L], csv.FirstRejections.Select(r => r.Line));
        Assert.Contains("expected 3 fields", csv.FirstRejections[0].Reason, StringComparison.Ordinal);
        Assert.Contains("value 'oops' is not a number", csv.FirstRejections[1].Reason, StringComparison.Ordinal);
        Assert.Null(result.Log);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task LogLevelsAreCountedAcrossChunkBoundariesAndSplitCharacters(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var text =
            "2026-01-01 INFO started\n" +
            "2026-01-01 [ERROR] disk at 95 % – ünïcödé ✓\r\n" +
            "level=WARNING retrying\n" +
            "ERRORS: none, but INFO here\n" +
            "WARN_ING is no token, ERROR is\n" +
            "plain line\n" +
            "\n" +
            "INFO_x WARN x\n" +
            "last ERROR without newline é";
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        // Cut every few bytes: lines and the multi-byte characters (ü, ✓, é...) are split across chunks.
        var chunks = Enumerable.Range(0, (bytes.Length + 6) / 7).Select(i => bytes.AsSpan(i * 7, Math.Min(7, bytes.Length - i * 7)).ToArray()).ToList();
        Assert.Contains(chunks, c => c[^1] >= 0xC0);

        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "app.log", ContentType = "text/plain; charset=utf-8" });
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(chunks), cts.Token);

        var log = Assert.IsType<LogSummary>(result.Log);
        // The blank line is no entry: "plain line" is the only other.
        Assert.Equal((9L, 8L, 3L, 2L, 2L, 1L), (log.Lines, log.Entries, log.Errors, log.Warnings, log.Infos, log.Other));
        Assert.Equal([2L, 5L, 9L], log.FirstErrors.Select(e => e.Line));
        Assert.Equal("2026-01-01 [ERROR] disk at 95 % – ünïcödé ✓", log.FirstErrors[0].Text);
        Assert.Equal("last ERROR without newline é", log.FirstErrors[2].Text);
        Assert.Null(result.Csv);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task WatchUploadReportsDurableProgressAndCompletesWithTheUpload(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(10 * Chunk);
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "watched.bin", ContentType = "application/octet-stream", TotalBytes = data.Length });

        var watched = Task.Run(async () =>
        {
            var statuses = new List<UploadStatus>();
            await foreach (var status in connection.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, begun.UploadId, cts.Token))
                statuses.Add(status);
            return statuses;
        }, cts.Token);
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams > 0, Timeouts.Default, "the watch started");
        await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token);
        var statuses = await watched;

        Assert.Equal(0, statuses[0].ReceivedBytes);
        Assert.True(statuses.Zip(statuses.Skip(1)).All(p => p.Second.ReceivedBytes >= p.First.ReceivedBytes), "Progress went backwards.");
        Assert.All(statuses, s => Assert.Equal(0, s.ReceivedBytes % Chunk));
        Assert.True(statuses[^1].Complete);
        Assert.Equal(data.Length, statuses[^1].ReceivedBytes);
        Assert.Equal(UploadStreams.Sha256Of(data), statuses[^1].Sha256);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ChunkAfterTheLastOfTotalBytesIsRefusedAndAnEmptyResumeCompletes(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * Chunk);
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "exact.bin", ContentType = "application/octet-stream", TotalBytes = data.Length });

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.Hub.UploadAsync(
            begun.UploadId, 0, UploadStreams.Chunks([data[..Chunk], data[Chunk..], [1, 2, 3]]), cts.Token));
        var status = await connection.Hub.GetUploadStatusAsync(begun.UploadId);
        var result = await connection.Hub.UploadAsync(begun.UploadId, status.ReceivedBytes, UploadStreams.Chunks(Array.Empty<byte[]>()), cts.Token);

        Assert.Contains("past its totalBytes", refused.Message, StringComparison.Ordinal);
        Assert.Equal((data.Length, false), (status.ReceivedBytes, status.Complete));
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (result.Complete, result.Sha256));
    }

    /// <summary>Sends <paramref name="chunks"/> chunks of <paramref name="data"/>, then waits until cancelled.</summary>
    private static async IAsyncEnumerable<byte[]> SendThenHang(byte[] data, int chunks, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < chunks; i++)
        {
            yield return data.AsSpan(i * Chunk, Chunk).ToArray();
            await Task.Yield();
        }
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
