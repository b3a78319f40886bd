using System.Runtime.CompilerServices;
using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>SDK uploads resume after a dropped connection and verify the hash; downloads give back the same bytes.</summary>
public sealed class ClientTransferTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    private const int Chunk = 32 * 1024;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadInterruptedByADropResumesAndCompletesWithTheRightHash(Protocol protocol)
    {
        var app = apps.Default;
        var data = UploadStreams.RandomBytes(64 * Chunk + 777);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var dropped = 0;
        var progress = new RecordingProgress<UploadProgress>(p =>
        {
            if (p.BytesSent >= 16 * Chunk && Interlocked.Exchange(ref dropped, 1) == 0)
                harness.Drop();
        });

        var result = await harness.Client.UploadAsync(
            new MemoryStream(data), new UploadOptions { Name = "resumed.bin", ChunkSize = Chunk }, progress, cts.Token).WaitAsync(Timeouts.Default);

        Assert.True(result.Complete);
        Assert.Equal(data.Length, result.Bytes);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
        var reports = progress.Reports;
        var last = reports[^1];
        Assert.True(last.IsComplete);
        Assert.Equal(100, last.Percent);
        Assert.Equal(data.Length, last.BytesSent);
        Assert.Equal(data.Length, last.TotalBytes);
        Assert.All(reports, p => Assert.Equal(result.UploadId, p.UploadId));

        using var downloaded = new MemoryStream();
        await harness.Client.DownloadAsync(result.UploadId, downloaded, cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal(data, downloaded.ToArray());
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadOfAStreamOfUnknownLengthCompletesAndIsListed(Protocol protocol)
    {
        var app = apps.Default;
        var data = UploadStreams.RandomBytes(5 * Chunk + 3);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var progress = new RecordingProgress<UploadProgress>();

        var result = await harness.Client.UploadAsync(
            new ForwardOnlyStream(data), new UploadOptions { Name = "piped.bin", ChunkSize = Chunk }, progress, cts.Token).WaitAsync(Timeouts.Default);

        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
        Assert.Null(progress.Reports[0].Percent);
        Assert.Equal(100, progress.Reports[^1].Percent);
        var uploads = await harness.Client.ListUploadsAsync(cts.Token).WaitAsync(Timeouts.Default);
        Assert.Contains(uploads, u => u.UploadId == result.UploadId && u.Complete);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task DownloadResumesAfterADrop(Protocol protocol)
    {
        var app = apps.Default;
        var data = UploadStreams.RandomBytes(40 * 64 * 1024 + 5);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var uploaded = await harness.Client.UploadAsync(new MemoryStream(data), new UploadOptions { Name = "down.bin" }, null, cts.Token).WaitAsync(Timeouts.Default);
        var destination = new DroppingStream(afterBytes: 10 * 64 * 1024, harness.Drop);

        await harness.Client.DownloadAsync(uploaded.UploadId, destination, cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal(data, destination.ToArray());
        // The drop happened, and the client came back. Waited for rather than looked at: when the server had sent the
        // rest of the file before the socket went (the client buffers stream items), the download completes first and
        // the reconnection follows it.
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
    }

    [Fact]
    public async Task ADestinationThatFailsEndsTheDownloadWithItsErrorInsteadOfResuming()
    {
        var app = apps.Default;
        var data = UploadStreams.RandomBytes(4 * 64 * 1024);
        await using var harness = await ClientHarness.StartAsync(app, Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var uploaded = await harness.Client.UploadAsync(new MemoryStream(data), new UploadOptions { Name = "full.bin" }, null, cts.Token).WaitAsync(Timeouts.Default);

        var error = await Assert.ThrowsAsync<IOException>(
            () => harness.Client.DownloadAsync(uploaded.UploadId, new FullDiskStream(), cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal(FullDiskStream.Message, error.Message);
    }

    [Fact]
    public async Task AnUploadOlderThanTheWriterAllowanceResumesPastAWriterThatTheServerReleasesLate()
    {
        var app = apps.Default;
        var data = UploadStreams.RandomBytes(8 * Chunk + 5);
        var clock = new ShiftedTimeProvider();
        await using var harness = await ClientHarness.StartAsync(app, Protocol.MessagePack, configure: options => options.TimeProvider = clock);
        await using var holder = await app.ConnectAsync(Protocol.MessagePack);
        await using var prober = await app.ConnectAsync(Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var dropped = 0;
        var progress = new RecordingProgress<UploadProgress>(p =>
        {
            if (p.BytesSent >= 2 * Chunk && Interlocked.Exchange(ref dropped, 1) == 0)
            {
                // By the client's clock the upload began a minute ago, twice the allowance for a writer to be released.
                clock.Advance(TimeSpan.FromMinutes(1));
                harness.HoldReconnects();
                harness.Drop();
            }
        });

        var upload = harness.Client.UploadAsync(new MemoryStream(data), new UploadOptions { Name = "late-writer.bin", ChunkSize = Chunk }, progress, cts.Token);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        var uploadId = progress.Reports[0].UploadId;
        // Another writer holds the upload when the client comes back, as the dropped connection's writer would until
        // the server notices that it is gone: the resume meets upload_has_writer.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = await TakeWriterAsync(holder, prober, uploadId, release.Task, cts.Token);
        harness.ReleaseReconnects();
        await harness.WaitForLogAsync(
            ClientLogEvents.RetryingRefusal, "a resume refused with upload_has_writer and retried", e => e.Message.Contains(SensorHubErrors.UploadHasWriter, StringComparison.Ordinal));
        Assert.False(upload.IsCompleted);
        release.SetResult();
        var held = await holding.WaitAsync(Timeouts.Default);
        var result = await upload.WaitAsync(Timeouts.Default);

        Assert.False(held.Complete);
        Assert.True(result.Complete);
        Assert.Equal(data.Length, result.Bytes);
        Assert.Equal(UploadStreams.Sha256Of(data), result.Sha256);
        Assert.Equal(0, harness.CountLogs(ClientLogEvents.RefusedPastPatience));
        using var downloaded = new MemoryStream();
        await harness.Client.DownloadAsync(uploadId, downloaded, cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal(data, downloaded.ToArray());
    }

    [Fact]
    public async Task RefusalsReachTheCallerWithTheirCodesAndAreNotRetried()
    {
        var app = apps.OneUploadPerConnection;
        var data = UploadStreams.RandomBytes(4 * Chunk);
        await using var harness = await ClientHarness.StartAsync(app, Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new RecordingProgress<UploadProgress>();
        var holding = harness.Client.UploadAsync(
            new GatedStream(data, Chunk, release.Task), new UploadOptions { Name = "held.bin", ChunkSize = Chunk }, progress, cts.Token);
        await Timeouts.WaitUntilAsync(() => progress.Reports.Count > 0, Timeouts.Default, "the first chunk sent");
        var heldId = progress.Reports[0].UploadId;
        await Timeouts.WaitUntilAsync(() => app.Services.GetStatus(heldId).ReceivedBytes == Chunk, Timeouts.Default, "the first chunk on disk");

        // The connection's one upload slot is taken.
        var tooMany = await Assert.ThrowsAsync<SensorHubServerException>(() => harness.Client.UploadAsync(
            new MemoryStream(data), new UploadOptions { Name = "refused.bin", ChunkSize = Chunk }, null, cts.Token).WaitAsync(Timeouts.Default));
        // A download through the same resuming machinery: the upload is not complete.
        var notComplete = await Assert.ThrowsAsync<SensorHubServerException>(
            () => harness.Client.DownloadAsync(heldId, new MemoryStream(), cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal(SensorHubErrors.TooManyUploads, tooMany.ErrorCode);
        Assert.Equal(SensorHubErrors.UploadNotComplete, notComplete.ErrorCode);
        Assert.Equal(0, harness.CountLogs(ClientLogEvents.RetryingRefusal));
        Assert.Equal(0, harness.CountLogs(ClientLogEvents.Resuming));
        release.SetResult();
        var held = await holding.WaitAsync(Timeouts.Default);
        Assert.Equal(UploadStreams.Sha256Of(data), held.Sha256);
    }

    /// <summary>
    /// Makes <paramref name="holder"/> the upload's writer, appending nothing until <paramref name="release"/>, and
    /// returns its call. First a probe from <paramref name="prober"/> must get in and out: then the dropped
    /// connection's writer is gone, and only the holder can hold the upload (the client's reconnections are held
    /// back). So once a probe is refused with upload_has_writer, the holder has it. A probe that gets in first makes
    /// the holder's call fail; the holder then tries again.
    /// </summary>
    private static async Task<Task<UploadResult>> TakeWriterAsync(
        TestConnection holder, TestConnection prober, string uploadId, Task release, CancellationToken cancellationToken)
    {
        while (await ProbeAsync(prober, uploadId, cancellationToken) != Probe.GotIn)
            await Task.Delay(20, cancellationToken);
        while (true)
        {
            var offset = (await prober.Hub.GetUploadStatusAsync(uploadId).WaitAsync(Timeouts.Default, cancellationToken)).ReceivedBytes;
            var holding = holder.Hub.UploadAsync(uploadId, offset, NothingUntil(release, cancellationToken), cancellationToken);
            while (!holding.IsCompleted)
            {
                if (await ProbeAsync(prober, uploadId, cancellationToken) == Probe.HasWriter)
                    return holding;
                await Task.Delay(20, cancellationToken);
            }
            // Refused because a probe held the upload at that moment: the holder tries again.
            await Assert.ThrowsAnyAsync<Microsoft.AspNetCore.SignalR.HubException>(() => holding);
        }
    }

    private enum Probe
    {
        GotIn,
        HasWriter,
        OffsetMoved,
    }

    /// <summary>An <c>Upload</c> of nothing at the upload's offset: in and out, unless another writer holds the upload.</summary>
    private static async Task<Probe> ProbeAsync(TestConnection prober, string uploadId, CancellationToken cancellationToken)
    {
        var status = await prober.Hub.GetUploadStatusAsync(uploadId).WaitAsync(Timeouts.Default, cancellationToken);
        try
        {
            await prober.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks([]), cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
            return Probe.GotIn;
        }
        catch (Microsoft.AspNetCore.SignalR.HubException ex) when (SensorHubErrors.CodeOf(ex.Message) == SensorHubErrors.UploadHasWriter)
        {
            return Probe.HasWriter;
        }
        catch (Microsoft.AspNetCore.SignalR.HubException ex) when (SensorHubErrors.CodeOf(ex.Message) == SensorHubErrors.UploadOffsetMismatch)
        {
            // The dropped connection's writer was still writing chunks it had received.
            return Probe.OffsetMoved;
        }
    }

    private static async IAsyncEnumerable<byte[]> NothingUntil(Task release, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await release.WaitAsync(cancellationToken);
        yield break;
    }

    /// <summary>Content whose reads past the first chunk wait for <paramref name="release"/>.</summary>
    private sealed class GatedStream(byte[] data, int firstChunk, Task release) : MemoryStream(data)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= firstChunk)
                await release.WaitAsync(cancellationToken);
            return await base.ReadAsync(buffer, cancellationToken);
        }
    }

    /// <summary>A destination whose every write fails, as on a full disk.</summary>
    private sealed class FullDiskStream : MemoryStream
    {
        public const string Message = "No space left on device";

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException(Message));
    }

    /// <summary>A stream that can only be read forward, like a pipe: its length is unknown.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    /// <summary>A destination that cuts the connection once it has been given <paramref name="afterBytes"/>.</summary>
    private sealed class DroppingStream(long afterBytes, Action drop) : MemoryStream
    {
        private bool _dropped;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var result = base.WriteAsync(buffer, cancellationToken);
            if (!_dropped && Length >= afterBytes)
            {
                _dropped = true;
                drop();
            }
            return result;
        }
    }
}
