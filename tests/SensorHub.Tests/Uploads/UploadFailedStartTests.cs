using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Whatever a <c>WatchUpload</c>, <c>Download</c> or <c>Upload</c> took is given back when anything after the taking
/// fails: afterwards the hub counts no stream of it, the connection opens its full <c>MaxStreamsPerConnection</c> and
/// <c>MaxUploadsPerConnection</c> again (the server's <c>MaxConcurrentUploads</c> is as small, so it is checked too),
/// no watcher stays registered, and the upload has no writer, so the next <c>Upload</c> is taken. Where no input
/// makes a failure happen late enough, a hook does.
/// </summary>
public sealed class UploadFailedStartTests(UploadFailedStartTests.Server server) : IClassFixture<UploadFailedStartTests.Server>
{
    private const int MaxStreams = 3;
    private const int MaxUploads = 2;
    private const int MaxChunk = 4096;
    private const int DownloadChunk = 1024;
    private const string UnknownId = "0123456789abcdef0123456789abcdef";
    private static readonly TestUser s_owner = TestUser.Operator("owen");

    private SensorHubApplication App => server.App;

    // ---- WatchUpload ----

    [Theory]
    [InlineData("unknown", SensorHubErrors.UnknownUpload)]
    [InlineData("null", SensorHubErrors.InvalidArgument)]
    [InlineData("fails-after-registration", null)]
    public async Task WatchUploadThatFailsHoldsNothingAfterwards(string failure, string? code)
    {
        await using var connection = await App.ConnectAsync(Protocol.Json, s_owner);
        var upload = await BeginAsync(connection, "watched.bin", totalBytes: 10);
        server.FailWatchOf = failure == "fails-after-registration" ? upload.UploadId : null;
        var uploadId = failure switch
        {
            "unknown" => UnknownId,
            "null" => null,
            _ => upload.UploadId,
        };

        var refused = await Assert.ThrowsAsync<HubException>(() => WatchAsync(connection, uploadId).WaitAsync(Timeouts.Default));
        server.FailWatchOf = null;

        Assert.Equal(code, SensorHubErrors.CodeOf(refused.Message));
        Assert.Equal(0, App.Services.WatcherCount(upload.UploadId));
        await AssertNothingHeldAsync(connection);
    }

    // ---- Download ----

    [Theory]
    [InlineData("unknown", SensorHubErrors.UnknownUpload)]
    [InlineData("incomplete", SensorHubErrors.UploadNotComplete)]
    [InlineData("negative-offset", SensorHubErrors.InvalidArgument)]
    [InlineData("offset-past-the-end", SensorHubErrors.InvalidArgument)]
    [InlineData("bytes-gone", null)]
    [InlineData("bytes-cut-short", null)]
    public async Task DownloadThatFailsHoldsNothingAfterwards(string failure, string? code)
    {
        await using var connection = await App.ConnectAsync(Protocol.Json, s_owner);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(4 * DownloadChunk);
        var upload = await BeginAsync(connection, "download.bin", data.Length);
        if (failure != "incomplete")
            await connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks(data, MaxChunk), cts.Token).WaitAsync(Timeouts.Default);
        var dataFile = Path.Combine(App.DataPath, upload.UploadId + ".data");
        if (failure == "bytes-gone")
            File.Delete(dataFile);
        if (failure == "bytes-cut-short")
        {
            // The file opens, the first chunk is read, the second is not there.
            await using var file = new FileStream(dataFile, FileMode.Open, FileAccess.Write);
            file.SetLength(DownloadChunk + 10);
        }
        var (uploadId, offset) = failure switch
        {
            "unknown" => (UnknownId, 0L),
            "negative-offset" => (upload.UploadId, -1L),
            "offset-past-the-end" => (upload.UploadId, data.Length + 1L),
            _ => (upload.UploadId, 0L),
        };

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.Hub.DownloadAsync(uploadId, offset, cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal(code, SensorHubErrors.CodeOf(refused.Message));
        await AssertNothingHeldAsync(connection);
    }

    // ---- Upload ----

    [Theory]
    [InlineData("unknown", SensorHubErrors.UnknownUpload)]
    [InlineData("not-the-owner", SensorHubErrors.NotAllowed)]
    [InlineData("negative-offset", SensorHubErrors.InvalidArgument)]
    [InlineData("offset-mismatch", SensorHubErrors.UploadOffsetMismatch)]
    [InlineData("complete", SensorHubErrors.UploadComplete)]
    [InlineData("failed", SensorHubErrors.UploadFailed)]
    [InlineData("has-a-writer", SensorHubErrors.UploadHasWriter)]
    [InlineData("connection-runs-its-most", SensorHubErrors.TooManyUploads)]
    [InlineData("server-runs-its-most", SensorHubErrors.ServerBusy)]
    [InlineData("chunk-too-large", SensorHubErrors.TooLarge)]
    [InlineData("file-cannot-be-opened", null)]
    [InlineData("processing-fails", null)]
    public async Task UploadThatFailsHoldsNothingAfterwards(string failure, string? code)
    {
        await using var connection = await App.ConnectAsync(Protocol.Json, s_owner);
        await using var other = await App.ConnectAsync(Protocol.Json, s_owner);
        await using var stranger = await App.ConnectAsync(Protocol.Json, TestUser.Operator("olga"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * MaxChunk);
        var upload = failure == "not-the-owner"
            ? await BeginAsync(stranger, "theirs.bin", data.Length)
            : await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "failing.csv", ContentType = "text/csv", TotalBytes = data.Length,
                Sha256 = UploadStreams.Sha256Of(failure == "failed" ? data[1..] : data),
            });
        var dataFile = Path.Combine(App.DataPath, upload.UploadId + ".data");
        var offset = 0L;
        IAsyncEnumerable<byte[]> chunks = UploadStreams.Chunks(data, MaxChunk, cts.Token);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holders = new List<Task<UploadResult>>();
        switch (failure)
        {
            case "unknown":
                upload = upload with { UploadId = UnknownId };
                break;
            case "negative-offset":
                offset = -1;
                break;
            case "offset-mismatch":
                offset = 1;
                break;
            case "complete":
                await connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks(data, MaxChunk), cts.Token).WaitAsync(Timeouts.Default);
                offset = data.Length;
                chunks = UploadStreams.Chunks(Array.Empty<byte[]>());
                break;
            case "failed":
                await Assert.ThrowsAsync<HubException>(
                    () => connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks(data, MaxChunk), cts.Token).WaitAsync(Timeouts.Default));
                break;
            case "has-a-writer":
                holders.Add(await HoldAsync(other, upload.UploadId, data, release.Task, cts.Token));
                offset = MaxChunk;
                chunks = UploadStreams.Chunks(data[MaxChunk..], MaxChunk, cts.Token);
                break;
            case "connection-runs-its-most":
                for (var i = 0; i < MaxUploads; i++)
                    holders.Add(await HoldAsync(connection, (await BeginAsync(connection, $"held-{i}.bin", data.Length)).UploadId, data, release.Task, cts.Token));
                break;
            case "server-runs-its-most":
                for (var i = 0; i < MaxUploads; i++)
                    holders.Add(await HoldAsync(other, (await BeginAsync(other, $"held-{i}.bin", data.Length)).UploadId, data, release.Task, cts.Token));
                break;
            case "chunk-too-large":
                chunks = UploadStreams.Chunks([data[..MaxChunk], UploadStreams.RandomBytes(MaxChunk + 1)]);
                break;
            case "file-cannot-be-opened":
                Directory.CreateDirectory(dataFile);
                break;
            case "processing-fails":
                server.FailProcessingOf = upload.UploadId;
                break;
        }

        var refused = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(upload.UploadId, offset, chunks, cts.Token).WaitAsync(Timeouts.Default));
        release.SetResult();
        foreach (var holder in holders)
            Assert.True((await holder.WaitAsync(Timeouts.Default)).Complete);
        if (failure == "file-cannot-be-opened")
            Directory.Delete(dataFile);

        Assert.Equal(code, SensorHubErrors.CodeOf(refused.Message));
        await AssertNothingHeldAsync(connection);
        if (failure is "unknown" or "complete" or "failed" or "has-a-writer")
            return;
        // The upload itself has no writer left: its owner resumes it where it stands, and gets the whole file.
        var owner = failure == "not-the-owner" ? stranger : connection;
        Assert.False(App.Services.HasWriter(upload.UploadId));
        var status = await owner.Hub.GetUploadStatusAsync(upload.UploadId);
        var resumed = await owner.Hub.UploadAsync(
            upload.UploadId, status.ReceivedBytes, UploadStreams.Chunks(data[(int)status.ReceivedBytes..], MaxChunk, cts.Token), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumed.Complete, resumed.Sha256));
    }

    // ---- Helpers ----

    /// <summary>
    /// Nothing of a failed call is left: no stream counted by the hub, and the connection takes its full
    /// <see cref="MaxStreams"/> streams and <see cref="MaxUploads"/> uploads at once (the server's limit too).
    /// </summary>
    private async Task AssertNothingHeldAsync(TestConnection connection)
    {
        await Timeouts.WaitUntilAsync(() => App.Activity.ActiveStreams == 0, Timeouts.Default, "no stream counted");
        Assert.Equal(0, (await App.GetStatsAsync()).ActiveStreams);
        Assert.Equal(0, App.Services.ActiveWriters());

        var watched = await BeginAsync(connection, "probe.bin", totalBytes: 10);
        using (var stop = new CancellationTokenSource(Timeouts.Default))
        {
            var watches = new List<IAsyncEnumerator<UploadStatus>>();
            try
            {
                for (var i = 0; i < MaxStreams; i++)
                {
                    var watch = connection.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, watched.UploadId, stop.Token).GetAsyncEnumerator(stop.Token);
                    watches.Add(watch);
                    Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default), $"Watch {i + 1} of {MaxStreams} ended.");
                }
                Assert.Equal(MaxStreams, App.Activity.ActiveStreams);
                Assert.Equal(MaxStreams, App.Services.WatcherCount(watched.UploadId));
            }
            finally
            {
                await stop.CancelAsync();
                foreach (var watch in watches)
                    await watch.DisposeAsync();
            }
        }
        await Timeouts.WaitUntilAsync(() => App.Activity.ActiveStreams == 0 && App.Services.WatcherCount(watched.UploadId) == 0, Timeouts.Default, "the probe's watches gone");

        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * MaxChunk);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var uploads = new List<Task<UploadResult>>();
        for (var i = 0; i < MaxUploads; i++)
            uploads.Add(await HoldAsync(connection, (await BeginAsync(connection, $"probe-{i}.bin", data.Length)).UploadId, data, release.Task, cts.Token));
        Assert.Equal(MaxUploads, App.Services.ActiveWriters());
        release.SetResult();
        foreach (var upload in uploads)
            Assert.True((await upload.WaitAsync(Timeouts.Default)).Complete);
        Assert.Equal(0, App.Services.ActiveWriters());
    }

    /// <summary>An upload whose first chunk is on disk and whose writer holds on until <paramref name="release"/>.</summary>
    private async Task<Task<UploadResult>> HoldAsync(TestConnection connection, string uploadId, byte[] data, Task release, CancellationToken cancellationToken)
    {
        var upload = connection.Hub.UploadAsync(uploadId, 0, FirstThenWait(data, release, cancellationToken), cancellationToken);
        await Timeouts.WaitUntilAsync(
            () => upload.IsCompleted || App.Services.GetStatus(uploadId).ReceivedBytes == MaxChunk, Timeouts.Default, "the held upload's first chunk on disk");
        Assert.False(upload.IsCompleted, "The held upload ended early.");
        return upload;
    }

    private static Task<UploadStatus> BeginAsync(TestConnection connection, string name, long totalBytes) =>
        connection.Hub.BeginUploadAsync(new UploadRequest { Name = name, ContentType = "application/octet-stream", TotalBytes = totalBytes });

    private static async Task WatchAsync(TestConnection connection, string? uploadId)
    {
        await foreach (var _ in connection.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, uploadId))
        {
        }
    }

    private static async IAsyncEnumerable<byte[]> FirstThenWait(byte[] data, Task release, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return data[..MaxChunk];
        await release.WaitAsync(cancellationToken);
        await foreach (var chunk in UploadStreams.Chunks(data[MaxChunk..], MaxChunk, cancellationToken))
            yield return chunk;
    }

    /// <summary>One server for the class, with small limits and hooks that fail a watch or a worker when a test says so.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private string? _failWatchOf;
        private string? _failProcessingOf;

        public Server()
        {
            var hooks = new UploadHooks
            {
                AfterWatch = (uploadId, _) => uploadId == FailWatchOf
                    ? throw new InvalidOperationException("A failure right after the watcher was registered.")
                    : Task.CompletedTask,
                // Once: the resume that follows is processed.
                BeforeProcessing = (uploadId, _, _) => uploadId == FailProcessingOf && Interlocked.Exchange(ref _failProcessingOf, null) is not null
                    ? throw new InvalidOperationException("A failure between the write of a chunk and its processing.")
                    : Task.CompletedTask,
            };
            App = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
            {
                ["SensorHub:Hub:MaxStreamsPerConnection"] = MaxStreams.ToString(CultureInfo.InvariantCulture),
                ["SensorHub:Uploads:MaxUploadsPerConnection"] = MaxUploads.ToString(CultureInfo.InvariantCulture),
                ["SensorHub:Uploads:MaxConcurrentUploads"] = MaxUploads.ToString(CultureInfo.InvariantCulture),
                ["SensorHub:Uploads:MaxChunkBytes"] = MaxChunk.ToString(CultureInfo.InvariantCulture),
                ["SensorHub:Uploads:DownloadChunkBytes"] = DownloadChunk.ToString(CultureInfo.InvariantCulture),
            })
            { TestServices = services => services.AddSingleton(hooks) };
        }

        public SensorHubApplication App { get; }

        /// <summary>The upload whose watches fail right after registering.</summary>
        public string? FailWatchOf
        {
            get => Volatile.Read(ref _failWatchOf);
            set => Volatile.Write(ref _failWatchOf, value);
        }

        /// <summary>The upload whose worker fails before its next chunk, once.</summary>
        public string? FailProcessingOf
        {
            get => Volatile.Read(ref _failProcessingOf);
            set => Volatile.Write(ref _failProcessingOf, value);
        }

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await App.DisposeAsync();
    }
}
