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
/// Each owner (a token's subject) keeps at most <c>MaxUploadsPerOwner</c> uploads and <c>MaxBytesPerOwner</c> bytes:
/// over the count <c>BeginUpload</c> is refused, over the bytes a chunk is refused whole and the upload stays
/// resumable. Uploads of one owner that write at once never pass the quota together, failed uploads give their share
/// back, and the counts are made again from the records at start.
/// </summary>
public sealed class UploadQuotaTests
{
    private const int Chunk = 4096;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task BeginUploadOverTheOwnersCountIsRefusedUntilOneOfTheirUploadsFails(Protocol protocol)
    {
        await using var app = App(new() { ["SensorHub:Uploads:MaxUploadsPerOwner"] = "2" });
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        await using var connection = await app.ConnectAsync(protocol, owner);
        await using var other = await app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(Chunk);
        var complete = await BeginAsync(connection, data.Length);
        Assert.True((await connection.Hub.UploadAsync(complete.UploadId, 0, UploadStreams.Chunks([data]), cts.Token)).Complete);
        // Declares another file's hash: it fails when its last byte is in.
        var failing = await BeginAsync(connection, data.Length, sha256: UploadStreams.Sha256Of(data.AsSpan(1)));

        var refused = await Assert.ThrowsAsync<HubException>(() => BeginAsync(connection, data.Length));

        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("Quota exceeded: you keep 2 uploads, the most one owner may (MaxUploadsPerOwner)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await ListAsync(connection)).Count);
        // Another owner's count is their own.
        await BeginAsync(other, data.Length);

        var failed = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(failing.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.UploadFailed, SensorHubErrors.CodeOf(failed.Message));
        var again = await BeginAsync(connection, data.Length);
        Assert.True((await connection.Hub.UploadAsync(again.UploadId, 0, UploadStreams.Chunks([data]), cts.Token)).Complete);
        Assert.Equal((2, 2L * Chunk), app.Services.QuotaOf(owner.Name));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AChunkOverTheOwnersBytesIsRefusedWholeAndTheUploadResumesOnceTheirShareIsFreed(Protocol protocol)
    {
        await using var app = App(new() { ["SensorHub:Uploads:MaxBytesPerOwner"] = (4 * Chunk).ToString(CultureInfo.InvariantCulture) });
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        await using var connection = await app.ConnectAsync(protocol, owner);
        await using var second = await app.ConnectAsync(protocol, owner);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(4 * Chunk);
        // One chunk on disk in an upload that will fail (its declared hash is another file's) once its stream ends.
        var doomed = await BeginAsync(connection, Chunk, sha256: UploadStreams.Sha256Of(data));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomedRunning = second.Hub.UploadAsync(doomed.UploadId, 0, ThenWait(data[..Chunk], gate.Task, cts.Token), cts.Token);
        await Timeouts.WaitUntilAsync(() => app.Services.GetStatus(doomed.UploadId).ReceivedBytes == Chunk, Timeouts.Default, "the doomed upload's chunk on disk");
        var upload = await BeginAsync(connection, data.Length);

        var refused = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains(
            $"a chunk of {Chunk} bytes would take the uploads of this upload's owner past {4 * Chunk} bytes, the most one owner may store (MaxBytesPerOwner; {4 * Chunk} stored now); it was refused and the upload keeps its {3 * Chunk} bytes",
            refused.Message, StringComparison.Ordinal);
        Assert.Equal(3 * Chunk, (await connection.Hub.GetUploadStatusAsync(upload.UploadId)).ReceivedBytes);
        Assert.Equal(3 * Chunk, new FileInfo(Path.Combine(app.DataPath, upload.UploadId + ".data")).Length);

        // The failed upload keeps no bytes: its share is free, and the refused one resumes where it stands.
        gate.SetResult();
        var failed = await Assert.ThrowsAsync<HubException>(() => doomedRunning.WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.UploadFailed, SensorHubErrors.CodeOf(failed.Message));
        var resumed = await connection.Hub.UploadAsync(upload.UploadId, 3 * Chunk, UploadStreams.Chunks(data[(3 * Chunk)..], Chunk), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumed.Complete, resumed.Sha256));
        Assert.Equal((1, 4L * Chunk), app.Services.QuotaOf(owner.Name));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ATotalBytesThatCanNeverFitTheOwnersBytesIsRefusedAtBegin(Protocol protocol)
    {
        await using var app = App(new() { ["SensorHub:Uploads:MaxBytesPerOwner"] = (4 * Chunk).ToString(CultureInfo.InvariantCulture) });
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        await using var connection = await app.ConnectAsync(protocol, owner);

        var refused = await Assert.ThrowsAsync<HubException>(() => BeginAsync(connection, 4 * Chunk + 1));
        var fits = await BeginAsync(connection, 4 * Chunk);

        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains($"request.totalBytes ({4 * Chunk + 1}) is over the {4 * Chunk} bytes one owner may store (MaxBytesPerOwner)", refused.Message, StringComparison.Ordinal);
        Assert.Equal([fits.UploadId], (await ListAsync(connection)).Select(s => s.UploadId));
    }

    /// <summary>
    /// One upload's chunk is held after it passed its checks and before it is written: the quota it reserved is
    /// taken, so the other upload of the same owner that would pass the quota with it is refused, while another
    /// owner's upload goes on.
    /// </summary>
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadsOfOneOwnerWritingAtOnceNeverPassTheQuotaTogether(Protocol protocol)
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? heldUpload = null;
        var hooks = new UploadHooks
        {
            BeforeChunkWrite = (uploadId, _, cancellationToken) => uploadId == Volatile.Read(ref heldUpload) ? hold.Task.WaitAsync(cancellationToken) : Task.CompletedTask,
        };
        await using var app = App(
            new() { ["SensorHub:Uploads:MaxBytesPerOwner"] = (3 * Chunk / 2).ToString(CultureInfo.InvariantCulture) },
            services => services.AddSingleton(hooks));
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        await using var first = await app.ConnectAsync(protocol, owner);
        await using var second = await app.ConnectAsync(protocol, owner);
        await using var stranger = await app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(Chunk);
        var held = await BeginAsync(first, Chunk);
        var other = await BeginAsync(second, Chunk);
        var strangers = await BeginAsync(stranger, Chunk);
        Volatile.Write(ref heldUpload, held.UploadId);

        var holding = first.Hub.UploadAsync(held.UploadId, 0, UploadStreams.Chunks([data]), cts.Token);
        await Timeouts.WaitUntilAsync(() => app.Services.QuotaOf(owner.Name).Bytes == Chunk, Timeouts.Default, "the held chunk's bytes reserved");
        Assert.Equal(0, app.Services.GetStatus(held.UploadId).ReceivedBytes);
        var refused = await Assert.ThrowsAsync<HubException>(
            () => second.Hub.UploadAsync(other.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default));
        var strangersResult = await stranger.Hub.UploadAsync(strangers.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default);
        hold.SetResult();
        var heldResult = await holding.WaitAsync(Timeouts.Default);

        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(refused.Message));
        Assert.Equal(0, (await second.Hub.GetUploadStatusAsync(other.UploadId)).ReceivedBytes);
        Assert.True(strangersResult.Complete);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (heldResult.Complete, heldResult.Sha256));
        Assert.Equal((2, (long)Chunk), app.Services.QuotaOf(owner.Name));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task TheQuotasAreCountedAgainFromTheRecordsAtStart(Protocol protocol)
    {
        using var folder = new SharedDataFolder();
        folder.Settings["SensorHub:Uploads:MaxUploadsPerOwner"] = "3";
        folder.Settings["SensorHub:Uploads:MaxBytesPerOwner"] = (4 * Chunk).ToString(CultureInfo.InvariantCulture);
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * Chunk);
        string partialId;
        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(protocol, owner);
            var complete = await BeginAsync(connection, 2 * Chunk);
            Assert.True((await connection.Hub.UploadAsync(complete.UploadId, 0, UploadStreams.Chunks(data[..(2 * Chunk)], Chunk), cts.Token)).Complete);
            partialId = (await BeginAsync(connection, data.Length)).UploadId;
            Assert.False((await connection.Hub.UploadAsync(partialId, 0, UploadStreams.Chunks(data[..Chunk], Chunk), cts.Token)).Complete);
            // A failed upload counts in nothing, before the restart and after.
            var failing = await BeginAsync(connection, Chunk, sha256: UploadStreams.Sha256Of(data));
            await Assert.ThrowsAsync<HubException>(
                () => connection.Hub.UploadAsync(failing.UploadId, 0, UploadStreams.Chunks(data[..Chunk], Chunk), cts.Token).WaitAsync(Timeouts.Default));
            Assert.Equal((2, 3L * Chunk), first.Services.QuotaOf(owner.Name));
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(protocol, owner);
        var third = await BeginAsync(again, 0);
        var fourth = await Assert.ThrowsAsync<HubException>(() => BeginAsync(again, 0));
        var resume = await Assert.ThrowsAsync<HubException>(
            () => again.Hub.UploadAsync(partialId, Chunk, UploadStreams.Chunks(data[Chunk..], Chunk), cts.Token).WaitAsync(Timeouts.Default));

        Assert.Equal((3, 4L * Chunk), second.Services.QuotaOf(owner.Name));
        Assert.NotNull(third.UploadId);
        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(fourth.Message));
        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(resume.Message));
        Assert.Equal(2 * Chunk, (await again.Hub.GetUploadStatusAsync(partialId)).ReceivedBytes);
    }

    // ---- Helpers ----

    private static SensorHubApplication App(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null) =>
        new(Transport.TestServer, settings) { TestServices = services };

    private static Task<UploadStatus> BeginAsync(TestConnection connection, long totalBytes, string? sha256 = null) =>
        connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "quota.bin", ContentType = "application/octet-stream", TotalBytes = totalBytes == 0 ? null : totalBytes, Sha256 = sha256,
        });

    private static Task<IReadOnlyList<UploadStatus>> ListAsync(TestConnection connection) =>
        connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads).WaitAsync(Timeouts.Default);

    /// <summary><paramref name="chunk"/>, then the end of the stream once <paramref name="gate"/> opens.</summary>
    private static async IAsyncEnumerable<byte[]> ThenWait(byte[] chunk, Task gate, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return chunk;
        await gate.WaitAsync(cancellationToken);
    }
}
