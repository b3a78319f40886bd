using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// A chunk that would leave less than <c>MinFreeDiskBytes</c> free on the data folder's disk is refused before it is
/// written; nothing already written is lost and the upload resumes once there is room. The disk is simulated (the
/// server's <see cref="DiskSpace"/> is replaced), except where the test says so.
/// </summary>
public sealed class UploadDiskFloorTests
{
    private const int Chunk = 4096;
    private const long Floor = 100 * Chunk;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AChunkThatWouldLeaveLessThanTheFloorIsRefusedAndTheUploadResumesWhenThereIsRoom(Protocol protocol)
    {
        var disk = new SimulatedDisk(Floor + Chunk);
        await using var app = App(disk);
        await using var connection = await app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * Chunk);
        var upload = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "floor.bin", ContentType = "application/octet-stream", TotalBytes = data.Length });

        // Exactly the floor is left after the first chunk: taken. One byte less after the second: refused.
        var first = await connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks([data[..Chunk]]), cts.Token).WaitAsync(Timeouts.Default);
        disk.Free = Floor + Chunk - 1;
        var refused = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(upload.UploadId, Chunk, UploadStreams.Chunks(data[Chunk..], Chunk), cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal((Chunk, false), (first.Bytes, first.Complete));
        Assert.Equal(SensorHubErrors.InsufficientStorage, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains(
            $"Insufficient storage: a chunk of {Chunk} bytes would leave less than {Floor} bytes free on the server's disk (MinFreeDiskBytes; {Floor + Chunk - 1} free now); it was refused and the upload keeps its {Chunk} bytes",
            refused.Message, StringComparison.Ordinal);
        Assert.Equal(Chunk, (await connection.Hub.GetUploadStatusAsync(upload.UploadId)).ReceivedBytes);
        Assert.Equal(Chunk, new FileInfo(Path.Combine(app.DataPath, upload.UploadId + ".data")).Length);

        disk.Free = 10 * Floor;
        var resumed = await connection.Hub.UploadAsync(upload.UploadId, Chunk, UploadStreams.Chunks(data[Chunk..], Chunk), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumed.Complete, resumed.Sha256));
        Assert.Equal(data, await connection.Hub.DownloadAsync(upload.UploadId, 0, cts.Token));
    }

    /// <summary>
    /// A chunk held between its checks and its write counts as taken: another upload's chunk that fits the disk's
    /// free space alone but not with it is refused.
    /// </summary>
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ChunksBeingWrittenCountAgainstTheFloor(Protocol protocol)
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? heldUpload = null;
        var hooks = new UploadHooks
        {
            BeforeChunkWrite = (uploadId, _, cancellationToken) =>
            {
                if (uploadId != Volatile.Read(ref heldUpload))
                    return Task.CompletedTask;
                reached.TrySetResult();
                return hold.Task.WaitAsync(cancellationToken);
            },
        };
        var disk = new SimulatedDisk(Floor + Chunk + Chunk / 2);
        await using var app = App(disk, services => services.AddSingleton(hooks));
        await using var first = await app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        await using var second = await app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(Chunk);
        var held = await first.Hub.BeginUploadAsync(new UploadRequest { Name = "held.bin", ContentType = "application/octet-stream" });
        var other = await second.Hub.BeginUploadAsync(new UploadRequest { Name = "other.bin", ContentType = "application/octet-stream" });
        Volatile.Write(ref heldUpload, held.UploadId);

        var holding = first.Hub.UploadAsync(held.UploadId, 0, UploadStreams.Chunks([data]), cts.Token);
        await reached.Task.WaitAsync(Timeouts.Default);
        var refused = await Assert.ThrowsAsync<HubException>(
            () => second.Hub.UploadAsync(other.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default));
        hold.SetResult();
        var heldResult = await holding.WaitAsync(Timeouts.Default);
        // Written, the held chunk is the disk's business again (here: the simulated free space, which did not move).
        var afterwards = await second.Hub.UploadAsync(other.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal(SensorHubErrors.InsufficientStorage, SensorHubErrors.CodeOf(refused.Message));
        Assert.True(heldResult.Complete);
        Assert.True(afterwards.Complete);
    }

    [Fact]
    public async Task WithoutAFloorTheDiskIsNotAskedAtAll()
    {
        var disk = new SimulatedDisk(0) { Fails = true };
        await using var app = App(disk, floor: 0);
        await using var connection = await app.ConnectAsync(Protocol.Json, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var upload = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "nofloor.bin", ContentType = "application/octet-stream" });

        var result = await connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks([new byte[Chunk]]), cts.Token).WaitAsync(Timeouts.Default);

        Assert.True(result.Complete);
    }

    /// <summary>The server's own probe, on the real disk: a floor above any disk's free space refuses every chunk.</summary>
    [Fact]
    public async Task TheServersProbeReadsTheRealDisk()
    {
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:MinFreeDiskBytes"] = long.MaxValue.ToString(CultureInfo.InvariantCulture),
        });
        await using var connection = await app.ConnectAsync(Protocol.Json, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var upload = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "real.bin", ContentType = "application/octet-stream" });

        var refused = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks([new byte[Chunk]]), cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal(SensorHubErrors.InsufficientStorage, SensorHubErrors.CodeOf(refused.Message));
        var free = DiskSpace.System.FreeBytes(app.DataPath);
        Assert.True(free > 0, $"The real disk reports {free} bytes free.");
        Assert.Contains($"{long.MaxValue} bytes free on the server's disk", refused.Message, StringComparison.Ordinal);
    }

    private static SensorHubApplication App(SimulatedDisk disk, Action<IServiceCollection>? services = null, long floor = Floor) =>
        new(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:MinFreeDiskBytes"] = floor.ToString(CultureInfo.InvariantCulture),
        })
        {
            TestServices = s =>
            {
                s.AddSingleton(new DiskSpace(disk.FreeBytes));
                services?.Invoke(s);
            },
        };

    /// <summary>A disk whose free space the test sets; the server's writes do not change it.</summary>
    private sealed class SimulatedDisk(long free)
    {
        private long _free = free;

        public long Free
        {
            get => Interlocked.Read(ref _free);
            set => Interlocked.Exchange(ref _free, value);
        }

        /// <summary>Whether asking it throws, as a probe of a disk that went away would.</summary>
        public bool Fails { get; init; }

        public long FreeBytes(string folder) => Fails ? throw new IOException($"No disk under {folder}.") : Free;
    }
}
