using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Redis;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Redis.Uploads;

/// <summary>
/// Uploads across real nodes on a real redis-server, sharing one data folder: an upload begun on a node that dies is
/// resumed on another with its hash and CSV rows exact, a watch on one node follows a writer on another, the write
/// slot is one lease for the cluster, the janitor takes turns and the lease, quotas are the cluster's, and Redis down
/// refuses uploads at once.
/// </summary>
public sealed class RedisUploadTests : IAsyncLifetime
{
    private const long FirstTimestamp = 1_700_000_000_000;
    private const string Lease = "00:00:01.500";
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    /// <summary>
    /// Node A takes the first rows and dies (its Redis connections dropped without a word, its lease left to run out),
    /// either with every row on disk processed or with its worker stopped at row 3, so that rows 3 to 5 are on disk but
    /// were never published. Node B resumes at the bytes on disk: every row is published once over the two nodes, and
    /// the hash and the summary are those of the whole file.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData(3)]
    public async Task AnUploadWhoseNodeDiesIsResumedOnAnotherWithEveryRowPublishedOnceAndTheRightHash(int? workerStoppedAtRow)
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:UploadLease"] = Lease });
        var sensorId = Sensors.NewId("handover");
        var rows = Enumerable.Range(1, 10).Select(i => Encoding.UTF8.GetBytes(Row(sensorId, i) + (i < 10 ? "\n" : ""))).ToArray();
        var data = rows.SelectMany(r => r).ToArray();
        var firstFive = rows.Take(5).Sum(r => r.Length);
        var stopAt = workerStoppedAtRow is { } row ? rows.Take(row - 1).Sum(r => r.Length) : long.MaxValue;
        var never = new TaskCompletionSource();
        var hooks = new UploadHooks { BeforeProcessing = (_, offset, _) => offset < stopAt ? Task.CompletedTask : never.Task };
        var a = await nodes.StartNodeAsync(testServices: s => s.AddSingleton(hooks));
        var b = await nodes.StartNodeAsync();
        using var cts = new CancellationTokenSource(Timeouts.Default * 2);

        var onA = await a.ConnectAsync(Protocol.Json);
        var uploadId = (await onA.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "rows.csv", ContentType = "text/csv", TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data),
        })).UploadId;
        var chunks = Channel.CreateUnbounded<byte[]>();
        var upload = onA.Hub.UploadAsync(uploadId, 0, Read(chunks.Reader), cts.Token);
        foreach (var chunk in rows.Take(5))
            chunks.Writer.TryWrite(chunk);
        await Timeouts.WaitUntilAsync(() => a.Services.GetStatus(uploadId).ReceivedBytes == firstFive, Timeouts.Default, "five rows on A's disk");
        var processedOnA = workerStoppedAtRow is { } stopped ? rows.Take(stopped - 1).Sum(r => r.Length) : firstFive;
        await Timeouts.WaitUntilAsync(
            () => a.Services.GetRequiredService<UploadService>().Peek(uploadId)?.Record.Processed?.Bytes == processedOnA,
            Timeouts.Default,
            "A processed what it will");
        var publishedOnA = await ValuesAsync(a, sensorId);
        await nodes.KillAsync(a);
        _ = upload.ContinueWith(t => t.Exception, TaskScheduler.Default);

        await using var onB = await b.ConnectAsync(Protocol.Json);
        var result = await ResumeAsync(onB.Hub, uploadId, data, cts.Token);
        var publishedOnB = await ValuesAsync(b, sensorId);

        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
        var csv = Assert.IsType<CsvSummary>(result.Csv);
        Assert.Equal((10L, 10L, 0L), (csv.Rows, csv.Accepted, csv.Rejected));
        Assert.Equal(Enumerable.Range(1, workerStoppedAtRow is { } s ? s - 1 : 5).Select(i => (double)i), publishedOnA);
        // Each node's feed holds what it published, unless the feeds are shared (the Redis feed engine): then B's
        // holds every reading. Either way, each row once.
        var all = FeedsAreShared(b) ? publishedOnB : [.. publishedOnA, .. publishedOnB];
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (double)i), all);
    }

    /// <summary>A watcher on B sees the progress and the completion of an upload that a writer on A writes.</summary>
    [Fact]
    public async Task AWatchOnOneNodeFollowsAnUploadWrittenOnAnother()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:UploadLease"] = Lease });
        var a = await nodes.StartNodeAsync();
        var b = await nodes.StartNodeAsync();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var onA = await a.ConnectAsync(Protocol.Json);
        await using var onB = await b.ConnectAsync(Protocol.MessagePack);
        var data = UploadStreams.RandomBytes(3000);
        var uploadId = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "watched.bin", TotalBytes = data.Length })).UploadId;

        var seen = Channel.CreateUnbounded<UploadStatus>();
        var watch = Task.Run(async () =>
        {
            await foreach (var status in onB.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, uploadId, cts.Token))
                seen.Writer.TryWrite(status);
            seen.Writer.TryComplete();
        }, cts.Token);
        Assert.Equal(0, (await seen.Reader.ReadAsync(cts.Token)).ReceivedBytes);

        var chunks = Channel.CreateUnbounded<byte[]>();
        var upload = onA.Hub.UploadAsync(uploadId, 0, Read(chunks.Reader), cts.Token);
        chunks.Writer.TryWrite(data[..1000]);
        // B sees the first chunk before the writer sends more: progress, not only the end.
        while ((await seen.Reader.ReadAsync(cts.Token)).ReceivedBytes != 1000)
        {
        }
        chunks.Writer.TryWrite(data[1000..]);
        chunks.Writer.TryComplete();
        var result = await upload.WaitAsync(cts.Token);
        await watch.WaitAsync(cts.Token);
        var rest = new List<UploadStatus>();
        await foreach (var status in seen.Reader.ReadAllAsync(cts.Token))
            rest.Add(status);

        Assert.True(result.Complete);
        var last = rest[^1];
        Assert.True(last.Complete);
        Assert.Equal((3000L, result.Sha256), (last.ReceivedBytes, last.Sha256));
        Assert.All(rest, s => Assert.InRange(s.ReceivedBytes, 1000, 3000));
    }

    /// <summary>
    /// The write slot is one for the cluster: while a writer on A holds it (idle for longer than a lease, which it keeps
    /// renewing), a writer on B is refused; once A's stream ends, B resumes.
    /// </summary>
    [Fact]
    public async Task OneWriterAtATimeAcrossNodesAndAnIdleWriterKeepsItsLease()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:UploadLease"] = Lease });
        var a = await nodes.StartNodeAsync();
        var b = await nodes.StartNodeAsync();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var onA = await a.ConnectAsync(Protocol.Json);
        await using var onB = await b.ConnectAsync(Protocol.Json);
        var data = UploadStreams.RandomBytes(2000);
        var uploadId = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "one.bin", TotalBytes = data.Length })).UploadId;
        var chunks = Channel.CreateUnbounded<byte[]>();
        var upload = onA.Hub.UploadAsync(uploadId, 0, Read(chunks.Reader), cts.Token);
        chunks.Writer.TryWrite(data[..500]);
        await Timeouts.WaitUntilAsync(() => a.Services.GetStatus(uploadId).ReceivedBytes == 500, Timeouts.Default, "A wrote a chunk");

        // Twice the lease: an idle writer renews its lease and keeps the slot.
        await Task.Delay(TimeSpan.Parse(Lease, CultureInfo.InvariantCulture) * 2);
        var refused = await Assert.ThrowsAsync<HubException>(
            () => onB.Hub.UploadAsync(uploadId, 500, UploadStreams.Chunks(data[500..], 500), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.UploadHasWriter, SensorHubErrors.CodeOf(refused.Message));
        chunks.Writer.TryWrite(data[500..1000]);
        chunks.Writer.TryComplete();
        Assert.False((await upload.WaitAsync(cts.Token)).Complete);

        var result = await onB.Hub.UploadAsync(uploadId, 1000, UploadStreams.Chunks(data[1000..], 500), cts.Token).WaitAsync(Timeouts.Default);
        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
    }

    /// <summary>
    /// A writer whose node is cut off from Redis cannot renew its lease: it stops with <c>backend_unavailable</c>
    /// before the lease runs out, leaving what is on disk consistent, and another node resumes the upload.
    /// </summary>
    [Fact]
    public async Task AWriterThatCannotRenewItsLeaseStopsAndAnotherNodeResumes()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:UploadLease"] = Lease });
        var a = await nodes.StartNodeAsync();
        var b = await nodes.StartNodeAsync();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var onA = await a.ConnectAsync(Protocol.Json);
        var data = UploadStreams.RandomBytes(2000);
        var uploadId = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "cut.bin", TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data) })).UploadId;
        var chunks = Channel.CreateUnbounded<byte[]>();
        var upload = onA.Hub.UploadAsync(uploadId, 0, Read(chunks.Reader), cts.Token);
        chunks.Writer.TryWrite(data[..700]);
        await Timeouts.WaitUntilAsync(() => a.Services.GetStatus(uploadId).ReceivedBytes == 700, Timeouts.Default, "A wrote a chunk");

        a.Services.GetRequiredService<RedisConnection>().Kill();
        var stopped = await Assert.ThrowsAsync<HubException>(() => upload.WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf(stopped.Message));
        Assert.Contains("write lease", stopped.Message, StringComparison.Ordinal);

        await using var onB = await b.ConnectAsync(Protocol.Json);
        var result = await ResumeAsync(onB.Hub, uploadId, data, cts.Token);
        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
    }

    /// <summary>
    /// A writer that lost its lease while it stood between a chunk's checks and its write (a pause, as a long GC or a
    /// stalled disk would make) writes nothing once it goes on: another node resumed and completed the upload
    /// meanwhile, and its bytes stay exactly the file's.
    /// </summary>
    [Fact]
    public async Task AWriterThatLostItsLeaseWhilePausedWritesNothingAfterwards()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:UploadLease"] = Lease });
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var goOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new UploadHooks
        {
            BeforeChunkWrite = async (_, offset, _) =>
            {
                if (offset == 0)
                    return;
                paused.TrySetResult();
                // Deaf to the cancel on purpose: the writer goes on only when the test says so.
                await goOn.Task;
            },
        };
        var a = await nodes.StartNodeAsync(testServices: s => s.AddSingleton(hooks));
        var b = await nodes.StartNodeAsync();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var onA = await a.ConnectAsync(Protocol.Json);
        var data = UploadStreams.RandomBytes(3000);
        var uploadId = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "paused.bin", TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data) })).UploadId;
        var upload = onA.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks([data[..1000], UploadStreams.RandomBytes(1000)]), cts.Token);
        await paused.Task.WaitAsync(Timeouts.Default);

        // The lease goes (as if it had run out) and B takes the upload over, while A stands before its write.
        await _redis.Admin.KeyDeleteAsync(nodes.Prefix + "uploads:lease:" + uploadId);
        await using var onB = await b.ConnectAsync(Protocol.Json);
        var result = await ResumeAsync(onB.Hub, uploadId, data, cts.Token);
        Assert.True(result.Complete);

        goOn.TrySetResult();
        var stopped = await Assert.ThrowsAsync<HubException>(() => upload.WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf(stopped.Message));
        Assert.Equal(data, await onB.Hub.DownloadAsync(uploadId, 0, cts.Token));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(nodes.DataPath, uploadId + ".data"), cts.Token));
    }

    /// <summary>With Redis unreachable past the grace period, <c>BeginUpload</c> and <c>Upload</c> are refused at once.</summary>
    [Fact]
    public async Task BeginAndUploadAreRefusedAtOnceWhileRedisIsUnavailable()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Redis:UploadLease"] = Lease,
            ["SensorHub:Redis:GracePeriod"] = "00:00:00.500",
        });
        var a = await nodes.StartNodeAsync();
        await using var onA = await a.ConnectAsync(Protocol.Json);
        var uploadId = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "down.bin", TotalBytes = 10 })).UploadId;
        var availability = a.Services.GetRequiredService<RedisAvailability>();
        _redis.Pause();
        try
        {
            await Timeouts.WaitUntilAsync(() => !availability.IsAvailable, Timeouts.Default, "the node gave up on Redis");
            var begin = await Assert.ThrowsAsync<HubException>(() => onA.Hub.BeginUploadAsync(new UploadRequest { Name = "refused.bin" }));
            Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf(begin.Message));
            var append = await Assert.ThrowsAsync<HubException>(
                () => onA.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(new byte[10], 10)).WaitAsync(Timeouts.Default));
            Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf(append.Message));
        }
        finally
        {
            _redis.Resume();
        }
        await Timeouts.WaitUntilAsync(() => availability.IsAvailable, Timeouts.Default, "Redis answers again");
        var result = await onA.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(new byte[10], 10)).WaitAsync(Timeouts.Default);
        Assert.True(result.Complete);
    }

    /// <summary>
    /// The janitor sweeps on one node at a time (a node that finds the turn taken skips its sweep), and it takes an
    /// upload's lease before it deletes: a stale upload whose lease another holds stays.
    /// </summary>
    [Fact]
    public async Task TheJanitorTakesItsTurnAndTheLeaseBeforeItDeletes()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Redis:UploadLease"] = Lease,
            ["SensorHub:Uploads:StaleAfter"] = "00:00:00.200",
            ["SensorHub:Uploads:CleanupInterval"] = "01:00:00",
        });
        var a = await nodes.StartNodeAsync();
        var b = await nodes.StartNodeAsync();
        await using var onA = await a.ConnectAsync(Protocol.Json);
        var kept = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "leased.bin", TotalBytes = 10 })).UploadId;
        var stale = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "stale.bin", TotalBytes = 10 })).UploadId;
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var watched = Task.Run(async () =>
        {
            var statuses = new List<UploadStatus>();
            await foreach (var status in onA.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, stale, cts.Token))
                statuses.Add(status);
            return statuses;
        }, cts.Token);
        await Task.Delay(300);

        // Another node's turn: B's sweep does nothing.
        var janitor = nodes.Prefix + "uploads:janitor";
        Assert.True(await _redis.Admin.StringSetAsync(janitor, "another-node", TimeSpan.FromMinutes(1), StackExchange.Redis.When.NotExists));
        await b.Services.SweepUploadsAsync();
        Assert.Equal(2, (await onA.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads)).Count);

        // B's turn; the lease of one upload is another writer's: it stays, the other goes.
        await _redis.Admin.KeyDeleteAsync(janitor);
        Assert.True(await _redis.Admin.StringSetAsync(nodes.Prefix + "uploads:lease:" + kept, "another-writer", TimeSpan.FromMinutes(1)));
        await b.Services.SweepUploadsAsync();
        var left = await onA.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads);
        Assert.Equal([kept], left.Select(u => u.UploadId));
        Assert.False(await _redis.Admin.KeyExistsAsync(janitor));
        // A watch of the deleted upload, on A, ends with the failure it was deleted for.
        var last = (await watched.WaitAsync(Timeouts.Default))[^1];
        Assert.StartsWith("deleted: untouched", last.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// An owner's quota is the cluster's: uploads begun on two nodes count together, a third node's start does not count
    /// them again, and every node sees the same count.
    /// </summary>
    [Fact]
    public async Task AnOwnersQuotaIsCountedOnceForTheCluster()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Redis:UploadLease"] = Lease,
            ["SensorHub:Uploads:MaxUploadsPerOwner"] = "2",
        });
        var a = await nodes.StartNodeAsync();
        var b = await nodes.StartNodeAsync();
        await using var onA = await a.ConnectAsync(Protocol.Json);
        await using var onB = await b.ConnectAsync(Protocol.Json);
        var first = (await onA.Hub.BeginUploadAsync(new UploadRequest { Name = "one.bin", TotalBytes = 100 })).UploadId;
        await onA.Hub.UploadAsync(first, 0, UploadStreams.Chunks(new byte[100], 50)).WaitAsync(Timeouts.Default);
        await onB.Hub.BeginUploadAsync(new UploadRequest { Name = "two.bin" });

        var c = await nodes.StartNodeAsync();
        await using var onC = await c.ConnectAsync(Protocol.Json);
        var refused = await Assert.ThrowsAsync<HubException>(() => onC.Hub.BeginUploadAsync(new UploadRequest { Name = "three.bin" }));
        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(refused.Message));
        var owner = (await onC.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads)).Count;
        Assert.Equal(2, owner);
        var ownerId = a.Services.GetRequiredService<UploadService>().Peek(first)!.Record.OwnerId!;
        Assert.All([a, b, c], node => Assert.Equal((2, 100L), node.Services.QuotaOf(ownerId)));
        // A sweep counts again from the records: the same.
        await b.Services.SweepUploadsAsync();
        Assert.Equal((2, 100L), c.Services.QuotaOf(ownerId));
    }

    private static async Task<UploadResult> ResumeAsync(HubConnection hub, string uploadId, byte[] data, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (true)
        {
            var received = (await hub.GetUploadStatusAsync(uploadId)).ReceivedBytes;
            try
            {
                return await hub.UploadAsync(uploadId, received, UploadStreams.Chunks(data[(int)received..], 37, cancellationToken), cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
            }
            catch (HubException ex) when (SensorHubErrors.CodeOf(ex.Message) is SensorHubErrors.UploadHasWriter or SensorHubErrors.BackendUnavailable
                && DateTime.UtcNow < deadline)
            {
                // upload_has_writer: the dead writer's lease has not run out yet. backend_unavailable: a lease command
                // took longer than the lease (1.5 s here, which a loaded 2-core CI machine sometimes takes), and the
                // contract says to resume later, as the SDK does.
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private static async IAsyncEnumerable<byte[]> Read(ChannelReader<byte[]> chunks, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in chunks.ReadAllAsync(cancellationToken))
            yield return chunk;
    }

    private static bool FeedsAreShared(SensorHubApplication node) =>
        node.Engine.GetType().Namespace?.Contains("Redis", StringComparison.Ordinal) == true;

    private static string Row(string sensorId, int value) =>
        string.Create(CultureInfo.InvariantCulture, $"{sensorId},{FirstTimestamp + value},{value}");

    private static async Task<List<double>> ValuesAsync(SensorHubApplication node, string sensorId)
    {
        var readings = await node.Services.GetRequiredService<IReadingHistory>().ReadAsync(sensorId, 0, 10_000, CancellationToken.None);
        Sensors.AssertConsecutive(readings);
        return [.. readings.Select(r => r.Value)];
    }
}
