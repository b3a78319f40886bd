using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// The limits and the lifetime of uploads: uploads at once per connection and in all, the cleanup of stale partial uploads, and
/// uploads that outlive a restart of the server. Each test runs a server (or two) with settings of its own.
/// </summary>
public sealed class UploadLimitsTests
{
    private const int Chunk = 16 * 1024;

    // ---- Uploads at once per connection ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadOverTheConnectionsLimitIsRefusedWhileOtherConnectionsUploadAndTheSlotComesBack(Protocol protocol)
    {
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:MaxUploadsPerConnection"] = "1",
        });
        await using var busy = await app.ConnectAsync(protocol);
        await using var other = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * Chunk + 11);
        var held = await BeginAsync(busy, "held.bin", data);
        var refusedUpload = await BeginAsync(busy, "refused.bin", data);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var holding = busy.Hub.UploadAsync(held.UploadId, 0, FirstThenWait(data, gate.Task, cts.Token), cts.Token);
        await Timeouts.WaitUntilAsync(() => app.Services.GetStatus(held.UploadId).ReceivedBytes == Chunk, Timeouts.Default, "the first chunk on disk");

        var refused = await Assert.ThrowsAsync<HubException>(
            () => busy.Hub.UploadAsync(refusedUpload.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.TooManyUploads, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("Too many uploads at once: this connection already runs 1, the most allowed", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await busy.Hub.GetUploadStatusAsync(refusedUpload.UploadId)).ReceivedBytes);

        // Another connection has slots of its own: it takes the upload the busy one could not.
        var elsewhere = await other.Hub.UploadAsync(refusedUpload.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (elsewhere.Complete, elsewhere.Sha256));
        Assert.False(holding.IsCompleted);

        gate.SetResult();
        var first = await holding.WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (first.Complete, first.Sha256));

        // The slot comes back after an upload that ends, also after one that is refused.
        var completeAlready = await Assert.ThrowsAsync<HubException>(
            () => busy.Hub.UploadAsync(held.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.UploadComplete, SensorHubErrors.CodeOf(completeAlready.Message));
        Assert.Contains("is already complete", completeAlready.Message, StringComparison.Ordinal);
        var again = await BeginAsync(busy, "again.bin", data);
        var third = await busy.Hub.UploadAsync(again.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (third.Complete, third.Sha256));
        Assert.Equal(data, await busy.Hub.DownloadAsync(again.UploadId, 0, cts.Token));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadOverTheServersLimitIsRefusedUntilARunningOneEnds(Protocol protocol)
    {
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:MaxConcurrentUploads"] = "1",
        });
        await using var busy = await app.ConnectAsync(protocol);
        await using var other = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * Chunk + 1);
        var held = await BeginAsync(busy, "held.bin", data);
        var waiting = await BeginAsync(other, "waiting.bin", data);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var holding = busy.Hub.UploadAsync(held.UploadId, 0, FirstThenWait(data, gate.Task, cts.Token), cts.Token);
        await Timeouts.WaitUntilAsync(() => app.Services.GetStatus(held.UploadId).ReceivedBytes == Chunk, Timeouts.Default, "the first chunk on disk");

        var refused = await Assert.ThrowsAsync<HubException>(
            () => other.Hub.UploadAsync(waiting.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.ServerBusy, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("The server is running its most uploads at once (1); try again later", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await other.Hub.GetUploadStatusAsync(waiting.UploadId)).ReceivedBytes);

        gate.SetResult();
        Assert.True((await holding.WaitAsync(Timeouts.Default)).Complete);
        var later = await other.Hub.UploadAsync(waiting.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (later.Complete, later.Sha256));
    }

    // ---- Stale uploads ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task StalePartialAndFailedUploadsAreDeletedWhileCompleteAndBusyOnesStay(Protocol protocol)
    {
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:StaleAfter"] = "00:00:00.300",
            ["SensorHub:Uploads:CleanupInterval"] = "00:00:00.050",
        });
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * Chunk);

        var complete = await BeginAsync(connection, "complete.bin", data);
        Assert.True((await connection.Hub.UploadAsync(complete.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token)).Complete);
        var busy = await BeginAsync(connection, "busy.bin", data);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = connection.Hub.UploadAsync(busy.UploadId, 0, FirstThenWait(data, gate.Task, cts.Token), cts.Token);
        await Timeouts.WaitUntilAsync(() => app.Services.GetStatus(busy.UploadId).ReceivedBytes == Chunk, Timeouts.Default, "the busy upload's first chunk on disk");
        var partial = await BeginAsync(connection, "partial.bin", data);
        var partialResult = await connection.Hub.UploadAsync(partial.UploadId, 0, UploadStreams.Chunks(data[..(2 * Chunk)], Chunk), cts.Token);
        var idleSince = Stopwatch.StartNew();
        var failed = await connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "failed.bin", ContentType = "application/octet-stream", TotalBytes = Chunk, Sha256 = UploadStreams.Sha256Of(data),
        });
        await Assert.ThrowsAsync<HubException>(() => connection.Hub.UploadAsync(failed.UploadId, 0, UploadStreams.Chunks(data[..Chunk], Chunk), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal((2L * Chunk, false), (partialResult.Bytes, partialResult.Complete));
        Assert.True(File.Exists(DataFile(app, partial.UploadId)));

        await WaitUntilGoneAsync(connection, partial.UploadId);
        var gone = idleSince.Elapsed;
        await WaitUntilGoneAsync(connection, failed.UploadId);

        Assert.True(gone >= TimeSpan.FromMilliseconds(200), $"The partial upload went after {gone.TotalMilliseconds:0} ms idle, before it was stale.");
        // A deletion removes the record before the bytes (so that a crash leaves only leftovers the next start
        // recognises): the upload is unknown a moment before its bytes are gone.
        foreach (var id in new[] { partial.UploadId, failed.UploadId })
        {
            await Timeouts.WaitUntilAsync(() => !File.Exists(DataFile(app, id)), Timeouts.Default, $"{id}.data deleted");
            Assert.False(File.Exists(RecordFile(app, id)), $"{id}.json is still there.");
        }
        var listed = await ListAsync(connection);
        Assert.DoesNotContain(listed, s => s.UploadId == partial.UploadId || s.UploadId == failed.UploadId);

        // A complete upload is never stale.
        Assert.Contains(listed, s => s.UploadId == complete.UploadId && s.Complete);
        Assert.Equal(data, await connection.Hub.DownloadAsync(complete.UploadId, 0, cts.Token));
        Assert.True(File.Exists(RecordFile(app, complete.UploadId)));

        // An upload whose writer is open is not taken away, however long the writer idles.
        Assert.False(holding.IsCompleted);
        Assert.Equal(Chunk, (await connection.Hub.GetUploadStatusAsync(busy.UploadId)).ReceivedBytes);
        gate.SetResult();
        var busyResult = await holding.WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (busyResult.Complete, busyResult.Sha256));
        Assert.Equal(data, await connection.Hub.DownloadAsync(busy.UploadId, 0, cts.Token));
    }

    [Fact]
    public async Task StaleUploadWhoseBytesCannotBeDeletedIsLoggedAndTheJanitorAndTheServerGoOn()
    {
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:StaleAfter"] = "00:00:00.300",
            ["SensorHub:Uploads:CleanupInterval"] = "00:00:00.050",
        });
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(Chunk);
        var stuck = await BeginAsync(connection, "stuck.bin", data);
        var other = await BeginAsync(connection, "other.bin", data);
        // A folder where its bytes belong (it has none yet): File.Delete refuses it.
        Directory.CreateDirectory(Path.Combine(DataFile(app, stuck.UploadId), "in-the-way"));

        await WaitUntilGoneAsync(connection, stuck.UploadId);
        await WaitUntilGoneAsync(connection, other.UploadId);

        Assert.True(Directory.Exists(DataFile(app, stuck.UploadId)));
        Assert.False(File.Exists(RecordFile(app, other.UploadId)));
        // The server still takes uploads: the janitor's failure did not stop it.
        var later = await BeginAsync(connection, "later.bin", data);
        var result = await connection.Hub.UploadAsync(later.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default);
        Assert.True(result.Complete);
    }

    [Fact]
    public async Task WatchOfAStalePartialUploadEndsWhenTheUploadIsDeleted()
    {
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:StaleAfter"] = "00:00:00.300",
            ["SensorHub:Uploads:CleanupInterval"] = "00:00:00.050",
        });
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * Chunk);
        var partial = await BeginAsync(connection, "watched.bin", data);
        await connection.Hub.UploadAsync(partial.UploadId, 0, UploadStreams.Chunks(data[..Chunk], Chunk), cts.Token);

        var watching = Task.Run(async () =>
        {
            await foreach (var _ in connection.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, partial.UploadId, cts.Token))
            {
            }
        }, cts.Token);
        await WaitUntilGoneAsync(connection, partial.UploadId);

        // Either way is fine: the watch completes, or it ends with an error that says the upload is gone.
        var ended = await Record.ExceptionAsync(() => watching.WaitAsync(TimeSpan.FromSeconds(2)));
        Assert.True(ended is null or HubException, $"The watch of a deleted upload did not end: {ended?.GetType().Name}");
    }

    // ---- Restart ----

    [Fact]
    public async Task AfterARestartAPartialUploadIsStaleFromItsLastByteNotFromItsCreation()
    {
        using var folder = new SharedDataFolder();
        // Wide margins: the restart below must take less than StaleAfter minus the janitor's wait, even on a loaded machine.
        folder.Settings["SensorHub:Uploads:StaleAfter"] = "00:00:04";
        folder.Settings["SensorHub:Uploads:CleanupInterval"] = "00:00:00.050";
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * Chunk);
        string uploadId;
        Stopwatch sinceLastByte;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await BeginAsync(connection, "slow.bin", data)).UploadId;
            // A slow upload: created, one chunk, a pause longer than StaleAfter (the open writer keeps it), one more chunk.
            var result = await connection.Hub.UploadAsync(uploadId, 0, FirstThenWait(data[..(2 * Chunk)], Task.Delay(4_500, cts.Token), cts.Token), cts.Token);
            sinceLastByte = Stopwatch.StartNew();
            Assert.Equal((2L * Chunk, false), (result.Bytes, result.Complete));
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        // Long enough for the janitor (every 50 ms) to have looked at it.
        await Task.Delay(200, cts.Token);
        var status = await again.Hub.GetUploadStatusAsync(uploadId);
        Assert.True(sinceLastByte.Elapsed < TimeSpan.FromSeconds(3.5), $"Too slow to tell: the restart took {sinceLastByte.Elapsed.TotalSeconds:0.00} s.");

        Assert.Equal(2L * Chunk, status.ReceivedBytes);
        var resumed = await again.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks(data[(2 * Chunk)..], Chunk), cts.Token);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumed.Complete, resumed.Sha256));
    }

    [Fact]
    public async Task ADamagedRecordIsSkippedAndTheOtherUploadsStillLoad()
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * Chunk);
        string uploadId;
        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await BeginAsync(connection, "kept.bin", data)).UploadId;
            await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token);
        }
        // A record cut short, as a full disk or a crash outside SensorHub could leave it.
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "0123456789abcdef0123456789abcdef.json"), "{\"id\": \"0123", cts.Token);

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        var status = await again.Hub.GetUploadStatusAsync(uploadId);

        Assert.Equal((true, UploadStreams.Sha256Of(data)), (status.Complete, status.Sha256));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadsOutliveARestartAndAPartialOneResumesWithTheWholeFilesHash(Protocol protocol)
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var whole = UploadStreams.RandomBytes(5 * Chunk + 17);
        var partialData = UploadStreams.RandomBytes(6 * Chunk + 99);
        UploadStatus completeBefore, partialBefore;
        IReadOnlyList<UploadStatus> listedBefore;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(protocol);
            completeBefore = await BeginAsync(connection, "complete.bin", whole);
            await connection.Hub.UploadAsync(completeBefore.UploadId, 0, UploadStreams.Chunks(whole, Chunk), cts.Token);
            partialBefore = await BeginAsync(connection, "partial.bin", partialData);
            // The stream ends normally before totalBytes: the upload stays incomplete.
            var partialResult = await connection.Hub.UploadAsync(partialBefore.UploadId, 0, UploadStreams.Chunks(partialData[..(2 * Chunk + 5)], Chunk), cts.Token);
            Assert.Equal((2L * Chunk + 5, false, (string?)null), (partialResult.Bytes, partialResult.Complete, partialResult.Sha256));
            completeBefore = await connection.Hub.GetUploadStatusAsync(completeBefore.UploadId);
            partialBefore = await connection.Hub.GetUploadStatusAsync(partialBefore.UploadId);
            listedBefore = await ListAsync(connection);
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(protocol);
        var listedAfter = await ListAsync(again);

        Assert.Equal(listedBefore, listedAfter);
        var complete = Assert.Single(listedAfter, s => s.UploadId == completeBefore.UploadId);
        Assert.Equal((whole.Length, true, UploadStreams.Sha256Of(whole), "complete.bin"), (complete.ReceivedBytes, complete.Complete, complete.Sha256, complete.Name));
        var partial = Assert.Single(listedAfter, s => s.UploadId == partialBefore.UploadId);
        Assert.Equal((2L * Chunk + 5, false, (string?)null, (long?)partialData.Length), (partial.ReceivedBytes, partial.Complete, partial.Sha256, partial.TotalBytes));
        Assert.Equal(whole, await again.Hub.DownloadAsync(complete.UploadId, 0, cts.Token));

        var resumed = await again.Hub.UploadAsync(
            partial.UploadId, partial.ReceivedBytes, UploadStreams.Chunks(partialData[(int)partial.ReceivedBytes..], Chunk), cts.Token);

        Assert.Equal((partialData.Length, true, UploadStreams.Sha256Of(partialData)), (resumed.Bytes, resumed.Complete, resumed.Sha256));
        Assert.Equal(partialData, await again.Hub.DownloadAsync(partial.UploadId, 0, cts.Token));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task PartialCsvUploadResumedAfterARestartPublishesOnlyItsNewRowsAndSummarizesThemAll(Protocol protocol)
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var sensorId = Sensors.NewId("restart-csv");
        var lines = new List<string> { "sensorId,timestamp,value" };
        for (var i = 1; i <= 10; i++)
            lines.Add(i == 3 ? $"{sensorId},later,{i}" : $"{sensorId},{1_700_000_000_000L + i * 1000},{i}");
        var bytes = Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n");
        // The first part ends in the middle of the 7th row (line 8): rows 1-6 arrive before the restart.
        var cut = Encoding.UTF8.GetByteCount(string.Join("\r\n", lines.Take(7)) + "\r\n") + sensorId.Length + 3;
        string uploadId;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(protocol);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "readings.csv", ContentType = "text/csv", TotalBytes = bytes.Length, Sha256 = UploadStreams.Sha256Of(bytes),
            })).UploadId;
            var part = await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(bytes[..cut], 50), cts.Token);

            Assert.False(part.Complete);
            Assert.Equal((6L, 5L, 1L), (part.Csv!.Rows, part.Csv.Accepted, part.Csv.Rejected));
            Assert.Equal([1.0, 2, 4, 5, 6], await ValuesPublishedAsync(first, connection, sensorId, cts.Token));
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(protocol);
        var status = await again.Hub.GetUploadStatusAsync(uploadId);
        Assert.Equal((cut, false), (status.ReceivedBytes, status.Complete));

        var result = await again.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks(bytes[cut..], 50), cts.Token);

        Assert.Equal((bytes.Length, true, UploadStreams.Sha256Of(bytes)), (result.Bytes, result.Complete, result.Sha256));
        var csv = Assert.IsType<CsvSummary>(result.Csv);
        Assert.Equal((10L, 9L, 1L), (csv.Rows, csv.Accepted, csv.Rejected));
        var rejection = Assert.Single(csv.FirstRejections);
        Assert.Equal((4L, "timestamp 'later' is neither ISO 8601 nor a Unix time in seconds or milliseconds"), (rejection.Line, rejection.Reason));
        // Rows 1-6 were published before the restart; only the rows from the cut one on are published again.
        Assert.Equal([7.0, 8, 9, 10], await ValuesPublishedAsync(second, again, sensorId, cts.Token));
        var sensor = (await again.Hub.ListAllSensorsAsync(sensorId, cts.Token)).Single(s => s.Id == sensorId);
        Assert.Equal(1e9, sensor.LastValue);
    }

    // ---- Helpers ----

    private static Task<UploadStatus> BeginAsync(TestConnection connection, string name, byte[] data) =>
        connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = name, ContentType = "application/octet-stream", TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data),
        });

    private static Task<IReadOnlyList<UploadStatus>> ListAsync(TestConnection connection) =>
        connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads).WaitAsync(Timeouts.Default);

    private static string DataFile(SensorHubApplication app, string uploadId) => Path.Combine(app.DataPath, uploadId + ".data");

    private static string RecordFile(SensorHubApplication app, string uploadId) => Path.Combine(app.DataPath, uploadId + ".json");

    /// <summary>Polls the upload's status until the server no longer knows it, for at most five seconds.</summary>
    private static async Task WaitUntilGoneAsync(TestConnection connection, string uploadId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            try
            {
                await connection.Hub.GetUploadStatusAsync(uploadId);
            }
            catch (HubException ex)
            {
                Assert.Contains($"uploadId: no upload '{uploadId}' is known", ex.Message, StringComparison.Ordinal);
                return;
            }
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Upload {uploadId} was not cleaned up within 5 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Every value the sensor has published, in order, read by a client: a marker reading is published last, and a
    /// subscription from sequence 0 is read up to it.
    /// </summary>
    private static async Task<List<double>> ValuesPublishedAsync(SensorHubApplication app, TestConnection connection, string sensorId, CancellationToken cancellationToken)
    {
        const double Marker = 1e9;
        await app.Engine.PublishAsync(sensorId, 1, Marker);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var values = new List<double>();
        try
        {
            await foreach (var reading in connection.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, new SubscribeOptions { FromSequence = 0 }, leave.Token))
            {
                if (reading.Value == Marker)
                    break;
                values.Add(reading.Value);
            }
        }
        finally
        {
            await leave.CancelAsync();
        }
        return values;
    }

    /// <summary>The first chunk of <paramref name="data"/>, then the rest once <paramref name="gate"/> opens.</summary>
    private static async IAsyncEnumerable<byte[]> FirstThenWait(byte[] data, Task gate, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return data[..Chunk];
        await gate.WaitAsync(cancellationToken);
        await foreach (var chunk in UploadStreams.Chunks(data[Chunk..], Chunk, cancellationToken))
            yield return chunk;
    }
}
