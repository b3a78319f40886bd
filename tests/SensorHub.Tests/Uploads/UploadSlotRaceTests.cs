using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Whether an upload may still be appended to, or deleted, is decided under its write slot. Each race is made to
/// happen every time: a hook holds the second writer (or the janitor) after it found the upload incomplete and
/// before it takes the slot, while the upload completes.
/// </summary>
public sealed class UploadSlotRaceTests
{
    [Fact]
    public async Task WriterThatFoundTheUploadIncompleteIsRefusedWhenItCompletedBeforeTheSlotWasTaken()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new UploadHooks
        {
            // Only the late writer, the one at offset 4, waits.
            BeforeWriteSlot = async (_, offset, cancellationToken) =>
            {
                if (offset != 4)
                    return;
                held.TrySetResult();
                await release.Task.WaitAsync(cancellationToken);
            },
        };
        await using var app = new SensorHubApplication(Transport.TestServer) { TestServices = s => s.AddSingleton(hooks) };
        await using var first = await app.ConnectAsync(Protocol.Json);
        await using var second = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        byte[] data = [1, 2, 3, 4];
        // Without totalBytes: the upload completes when the first writer's stream ends.
        var begun = await first.Hub.BeginUploadAsync(new UploadRequest { Name = "raced.bin", ContentType = "application/octet-stream" });

        var late = second.Hub.UploadAsync(begun.UploadId, 4, UploadStreams.Chunks([new byte[] { 5, 6 }]), cts.Token);
        await held.Task.WaitAsync(Timeouts.Default);
        var completed = await first.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([data]), cts.Token).WaitAsync(Timeouts.Default);
        release.SetResult();
        var refused = await Assert.ThrowsAsync<HubException>(() => late.WaitAsync(Timeouts.Default));

        Assert.True(completed.Complete);
        Assert.Equal(SensorHubErrors.UploadComplete, SensorHubErrors.CodeOf(refused.Message));
        Assert.Equal(completed.Sha256, (await second.Hub.GetUploadStatusAsync(begun.UploadId)).Sha256);
        Assert.Equal(data, await second.Hub.DownloadAsync(begun.UploadId, 0, cts.Token));
        Assert.False(app.Services.HasWriter(begun.UploadId));
    }

    [Fact]
    public async Task JanitorThatFoundTheUploadStaleLeavesItWhenItCompletedBeforeTheSlotWasTaken()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new UploadHooks
        {
            // The server holds this test's upload only: the first stale one the janitor finds is it.
            BeforeJanitorSlot = async (_, cancellationToken) =>
            {
                if (held.TrySetResult())
                    await release.Task.WaitAsync(cancellationToken);
            },
        };
        await using var app = new SensorHubApplication(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:StaleAfter"] = "00:00:00.300",
            ["SensorHub:Uploads:CleanupInterval"] = "00:00:00.020",
        })
        { TestServices = s => s.AddSingleton(hooks) };
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(8);
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "stale.bin", ContentType = "application/octet-stream", TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data),
        });
        await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([data[..4]]), cts.Token).WaitAsync(Timeouts.Default);

        // The janitor finds it stale and stops before the slot; the upload completes meanwhile.
        await held.Task.WaitAsync(Timeouts.Default);
        var completed = await connection.Hub.UploadAsync(begun.UploadId, 4, UploadStreams.Chunks([data[4..]]), cts.Token).WaitAsync(Timeouts.Default);
        release.SetResult();
        // A few more rounds of the janitor, which never deletes a complete upload.
        await Task.Delay(200, cts.Token);

        Assert.True(completed.Complete);
        var status = await connection.Hub.GetUploadStatusAsync(begun.UploadId);
        Assert.Equal((true, UploadStreams.Sha256Of(data), (string?)null), (status.Complete, status.Sha256, status.Error));
        Assert.Equal(data, await connection.Hub.DownloadAsync(begun.UploadId, 0, cts.Token));
        Assert.True(File.Exists(Path.Combine(app.DataPath, begun.UploadId + ".json")));
    }
}
