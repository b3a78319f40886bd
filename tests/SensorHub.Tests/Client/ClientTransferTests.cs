using SensorHub.Client;
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
        Assert.Contains(ConnectionChange.Reconnected, harness.Changes);
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
        Assert.Contains(ConnectionChange.Reconnected, harness.Changes);
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
