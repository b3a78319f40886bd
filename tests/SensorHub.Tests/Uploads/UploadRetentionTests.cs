using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Complete uploads are kept for <c>RetainCompleteFor</c> after they completed, then the janitor deletes them and
/// their share of their owner's quota is free again; <c>0</c> keeps them forever. The server's clock is a
/// <see cref="FakeTimeProvider"/> that starts at the real time (tokens are checked against it) and that the tests move.
/// </summary>
public sealed class UploadRetentionTests
{
    private const int Chunk = 4096;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ACompleteUploadIsDeletedOnceItsRetentionHasPassedSinceItCompletedAndItsQuotaIsFree(Protocol protocol)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = App(time, retainCompleteFor: "30.00:00:00", maxBytesPerOwner: 3 * Chunk);
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        await using var connection = await app.ConnectAsync(protocol, owner);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * Chunk);

        // Begun now, complete ten days later: retention counts from the completion.
        var kept = await BeginAsync(connection, "kept.bin", data.Length);
        var partial = await BeginAsync(connection, "partial.bin", Chunk);
        time.Advance(TimeSpan.FromDays(10));
        Assert.True((await connection.Hub.UploadAsync(kept.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token)).Complete);
        // Its two chunks fill the owner's quota but for one: a second such upload does not fit.
        var waiting = await BeginAsync(connection, "waiting.bin", data.Length);
        var full = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(waiting.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token).WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.QuotaExceeded, SensorHubErrors.CodeOf(full.Message));

        // 39 days after it began, 29 after it completed: kept.
        time.Advance(TimeSpan.FromDays(29));
        await app.Services.SweepUploadsAsync();
        Assert.True((await connection.Hub.GetUploadStatusAsync(kept.UploadId)).Complete);
        Assert.Equal(data, await connection.Hub.DownloadAsync(kept.UploadId, 0, cts.Token));

        // 30 days after it completed: the janitor's next look deletes it, its files and its share of the quota.
        time.Advance(TimeSpan.FromDays(1));
        await connection.Hub.WaitUntilUploadGoneAsync(kept.UploadId);

        Assert.False(File.Exists(Path.Combine(app.DataPath, kept.UploadId + ".data")));
        Assert.False(File.Exists(Path.Combine(app.DataPath, kept.UploadId + ".json")));
        Assert.DoesNotContain(await ListAsync(connection), s => s.UploadId == kept.UploadId);
        var resumed = await connection.Hub.UploadAsync(waiting.UploadId, Chunk, UploadStreams.Chunks(data[Chunk..], Chunk), cts.Token).WaitAsync(Timeouts.Default);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumed.Complete, resumed.Sha256));
        // Retention is for complete uploads only: an unfinished one is stale after StaleAfter (a year here), not before.
        Assert.Equal(0, (await connection.Hub.GetUploadStatusAsync(partial.UploadId)).ReceivedBytes);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ZeroRetentionKeepsCompleteUploadsForever(Protocol protocol)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = App(time, retainCompleteFor: "00:00:00");
        await using var connection = await app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(Chunk);
        var upload = await BeginAsync(connection, "forever.bin", data.Length);
        Assert.True((await connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token)).Complete);

        time.Advance(TimeSpan.FromDays(100 * 365));
        await app.Services.SweepUploadsAsync();

        // Looked at in the server, not through the connection: a century later its token has long expired.
        Assert.True(app.Services.GetStatus(upload.UploadId).Complete);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(app.DataPath, upload.UploadId + ".data"), cts.Token));
    }

    [Fact]
    public async Task RetentionCountsFromTheCompletionRecordedBeforeARestart()
    {
        using var folder = new SharedDataFolder();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var owner = TestUser.Operator($"op-{Guid.NewGuid():N}");
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(Chunk);
        string uploadId;
        await using (var first = App(time, retainCompleteFor: "30.00:00:00", folder: folder))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json, owner);
            uploadId = (await BeginAsync(connection, "restarted.bin", data.Length)).UploadId;
            time.Advance(TimeSpan.FromDays(5));
            Assert.True((await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(data, Chunk), cts.Token)).Complete);
        }

        // Restarted 20 days after it completed. The token is made by the real clock, which JwtBearer checks, and lasts
        // past every move of the fake one, which the hub's door checks.
        time.Advance(TimeSpan.FromDays(20));
        await using var second = App(time, retainCompleteFor: "30.00:00:00", folder: folder);
        await using var again = await second.ConnectWithTokenAsync(
            Protocol.Json, second.MintToken(SensorHubApplication.ClaimsOf(owner), TimeSpan.FromDays(60), DateTime.UtcNow));
        await second.Services.SweepUploadsAsync();
        Assert.Equal((1, (long)Chunk), second.Services.QuotaOf(owner.Name));

        // 29 days after it completed (and 34 after it began, 9 after the restart): kept.
        time.Advance(TimeSpan.FromDays(9));
        await second.Services.SweepUploadsAsync();
        Assert.True((await again.Hub.GetUploadStatusAsync(uploadId)).Complete);

        time.Advance(TimeSpan.FromDays(1));
        await again.Hub.WaitUntilUploadGoneAsync(uploadId);
        Assert.Equal((0, 0L), second.Services.QuotaOf(owner.Name));
    }

    // ---- Helpers ----

    private static SensorHubApplication App(FakeTimeProvider time, string retainCompleteFor, long? maxBytesPerOwner = null, SharedDataFolder? folder = null)
    {
        var settings = new Dictionary<string, string?>(folder?.Settings ?? [])
        {
            ["SensorHub:Uploads:RetainCompleteFor"] = retainCompleteFor,
            // The janitor looks once a day of the fake clock; unfinished uploads are not stale for a year.
            ["SensorHub:Uploads:CleanupInterval"] = "1.00:00:00",
            ["SensorHub:Uploads:StaleAfter"] = "365.00:00:00",
        };
        if (maxBytesPerOwner is { } max)
            settings["SensorHub:Uploads:MaxBytesPerOwner"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new SensorHubApplication(Transport.TestServer, settings) { TestServices = services => FakeClock.Use(services, time) };
    }

    private static Task<UploadStatus> BeginAsync(TestConnection connection, string name, long totalBytes) =>
        connection.Hub.BeginUploadAsync(new UploadRequest { Name = name, ContentType = "application/octet-stream", TotalBytes = totalBytes });

    private static Task<IReadOnlyList<UploadStatus>> ListAsync(TestConnection connection) =>
        connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads).WaitAsync(Timeouts.Default);
}
