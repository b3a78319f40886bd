using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// What a server finds in its data folder at start: files a crash left behind are deleted and logged, and a record
/// that cannot be used, for whatever reason, is logged and skipped while the server starts with the others. The
/// files are real; none relies on permissions (CI runs as root, whom <c>chmod</c> does not stop).
/// </summary>
public sealed class UploadStartTests
{
    private const int Chunk = 4096;
    private const int LeftoverDeleted = 4014;
    private const int RecordUnreadable = 4008;

    [Fact]
    public async Task WhatACrashLeftIsDeletedAtStartAndLoggedAndTheUploadsStayWhole()
    {
        using var folder = new SharedDataFolder();
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * Chunk);
        string completeId, partialId, failedId;
        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json, owner);
            completeId = (await BeginAsync(connection, data.Length)).UploadId;
            await connection.Hub.UploadAsync(completeId, 0, UploadStreams.Chunks(data, Chunk), cts.Token);
            partialId = (await BeginAsync(connection, data.Length)).UploadId;
            await connection.Hub.UploadAsync(partialId, 0, UploadStreams.Chunks(data[..Chunk], Chunk), cts.Token);
            failedId = (await BeginAsync(connection, Chunk, UploadStreams.Sha256Of(data))).UploadId;
            await Assert.ThrowsAsync<HubException>(() => connection.Hub.UploadAsync(failedId, 0, UploadStreams.Chunks(data[..Chunk], Chunk), cts.Token));
        }
        var orphan = Guid.NewGuid().ToString("N");
        var crashed = new[]
        {
            // A record half written beside its upload's (a checkpoint's save), and one of an upload that never got its record.
            Write(folder, partialId + ".json.tmp", "{\"id\": \"" + partialId),
            Write(folder, Guid.NewGuid().ToString("N") + ".json.tmp", "{\"id\""),
            // Bytes whose record went first (a deletion cut short).
            Write(folder, orphan + ".data", "bytes"),
            // The bytes of a failed upload (its failure was saved, then the crash).
            Write(folder, failedId + ".data", "bytes"),
        };
        // Not the store's: left alone.
        var foreign = new[] { Write(folder, "notes.txt", "mine"), Write(folder, "notes.json.tmp", "mine"), Write(folder, "backup.data", "mine") };
        var logs = new UploadLogCollector();

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings) { TestServices = logs.AddTo };
        await using var again = await second.ConnectAsync(Protocol.Json, owner);

        Assert.All(crashed, path => Assert.False(File.Exists(path), $"{Path.GetFileName(path)} is still there."));
        Assert.All(foreign, path => Assert.True(File.Exists(path), $"{Path.GetFileName(path)} was deleted."));
        Assert.Equal(crashed.Order(), logs.WithId(LeftoverDeleted).Select(e => crashed.Single(e.Message.Contains)).Order());
        Assert.Equal(data, await again.Hub.DownloadAsync(completeId, 0, cts.Token));
        Assert.NotNull((await again.Hub.GetUploadStatusAsync(failedId)).Error);
        var resumed = await again.Hub.UploadAsync(partialId, Chunk, UploadStreams.Chunks(data[Chunk..], Chunk), cts.Token);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumed.Complete, resumed.Sha256));
    }

    /// <summary>
    /// Each kind of record that cannot be used is skipped and logged with its path: one that cannot be opened (a link
    /// to nothing, a link to itself, a folder), broken JSON, and well-formed JSON of the wrong shape. The bytes beside
    /// them are kept: a record's name is taken, so they are no leftover. The server starts with the good upload.
    /// </summary>
    [Fact]
    public async Task RecordsThatCannotBeUsedAreLoggedAndSkippedAndTheServerStarts()
    {
        using var folder = new SharedDataFolder();
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * Chunk);
        string goodId;
        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json, owner);
            goodId = (await BeginAsync(connection, data.Length)).UploadId;
            await connection.Hub.UploadAsync(goodId, 0, UploadStreams.Chunks(data, Chunk), cts.Token);
        }
        var good = await File.ReadAllTextAsync(Path.Combine(folder.Path, goodId + ".json"), cts.Token);
        var bad = new Dictionary<string, Action<string>>
        {
            ["a link to nothing"] = path => File.CreateSymbolicLink(path, Path.Combine(folder.Path, "nowhere")),
            ["a link to itself"] = path => File.CreateSymbolicLink(path, path),
            ["a folder"] = path => Directory.CreateDirectory(Path.Combine(path, "inside")),
            ["broken JSON"] = path => File.WriteAllText(path, "{\"id\": \"0123"),
            ["null"] = path => File.WriteAllText(path, "null"),
            ["a JSON array"] = path => File.WriteAllText(path, "[]"),
            ["another upload's id"] = path => File.WriteAllText(path, good),
            ["no content type"] = path => File.WriteAllText(path, good.Replace(goodId, IdOf(path), StringComparison.Ordinal).Replace("\"application/octet-stream\"", "null", StringComparison.Ordinal)),
            ["a negative totalBytes"] = path => File.WriteAllText(path, good.Replace(goodId, IdOf(path), StringComparison.Ordinal).Replace($"\"totalBytes\": {data.Length}", "\"totalBytes\": -1", StringComparison.Ordinal)),
            // At odds with its bytes: the 4 bytes beside it are more than it will ever take, so no Upload could go on.
            ["a totalBytes below its bytes"] = path => File.WriteAllText(path, good.Replace(goodId, IdOf(path), StringComparison.Ordinal).Replace($"\"totalBytes\": {data.Length}", "\"totalBytes\": 2", StringComparison.Ordinal)),
        };
        var badIds = new Dictionary<string, string>();
        foreach (var (kind, make) in bad)
        {
            var id = Guid.NewGuid().ToString("N");
            badIds[kind] = id;
            make(Path.Combine(folder.Path, id + ".json"));
            Write(folder, id + ".data", "kept");
        }
        var logs = new UploadLogCollector();

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings) { TestServices = logs.AddTo };
        await using var again = await second.ConnectAsync(Protocol.Json, TestUser.Admin);

        Assert.Equal(data, await again.Hub.DownloadAsync(goodId, 0, cts.Token));
        var unreadable = logs.WithId(RecordUnreadable);
        foreach (var (kind, id) in badIds)
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => again.Hub.GetUploadStatusAsync(id));
            Assert.Equal(SensorHubErrors.UnknownUpload, SensorHubErrors.CodeOf(refused.Message));
            Assert.True(unreadable.Count(e => e.Message.Contains(id + ".json", StringComparison.Ordinal)) == 1, $"The record with {kind} was not logged once.");
            Assert.True(File.Exists(Path.Combine(folder.Path, id + ".data")), $"The bytes beside the record with {kind} were deleted.");
        }
        Assert.Equal(badIds.Count, unreadable.Count);
    }

    private static string IdOf(string recordPath) => Path.GetFileNameWithoutExtension(recordPath);

    private static string Write(SharedDataFolder folder, string name, string text)
    {
        var path = Path.Combine(folder.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static Task<UploadStatus> BeginAsync(TestConnection connection, long totalBytes, string? sha256 = null) =>
        connection.Hub.BeginUploadAsync(new UploadRequest { Name = "start.bin", ContentType = "application/octet-stream", TotalBytes = totalBytes, Sha256 = sha256 });
}
