using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Nothing the janitor meets stops the server: a failure with one upload is logged and that upload skipped while the
/// others are handled, and a failing sweep is logged and the next one goes on. The server's clock is a
/// <see cref="FakeTimeProvider"/>: each move of one day is one look of the janitor (a longer move would be several).
/// </summary>
public sealed class UploadJanitorTests
{
    private const int Chunk = 4096;
    private const int FilesNotDeleted = 4010;
    private const int SweepOfUploadFailed = 4012;
    private const int SweepFailed = 4013;

    [Fact]
    public async Task AFailureWithOneUploadIsLoggedAndTheOthersAreStillHandled()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        string? failing = null;
        var hooks = new UploadHooks
        {
            BeforeJanitorSlot = (uploadId, _) => uploadId == Volatile.Read(ref failing)
                ? throw new InvalidOperationException("Something nobody foresaw, with one upload.")
                : Task.CompletedTask,
        };
        var logs = new UploadLogCollector();
        await using var app = App(time, services =>
        {
            services.AddSingleton(hooks);
            logs.AddTo(services);
        });
        await using var connection = await app.ConnectAsync(Protocol.Json, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        var troubled = await BeginAsync(connection);
        var stale = await BeginAsync(connection);
        Volatile.Write(ref failing, troubled.UploadId);

        time.Advance(TimeSpan.FromDays(1));
        await connection.Hub.WaitUntilUploadGoneAsync(stale.UploadId);
        await Timeouts.WaitUntilAsync(() => logs.WithId(SweepOfUploadFailed).Count > 0, Timeouts.Default, "the failure logged");

        var logged = Assert.Single(logs.WithId(SweepOfUploadFailed));
        Assert.Contains(troubled.UploadId, logged.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(logged.Exception);
        await AssertTheServerGoesOnAsync(app, connection);
        // Skipped, not lost: once the trouble is gone, the next look deletes it.
        Volatile.Write(ref failing, null);
        time.Advance(TimeSpan.FromDays(1));
        await connection.Hub.WaitUntilUploadGoneAsync(troubled.UploadId);
    }

    [Fact]
    public async Task AFailingSweepIsLoggedAndTheNextOneGoesOn()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sweeps = 0;
        var hooks = new UploadHooks
        {
            BeforeSweep = _ => Interlocked.Increment(ref sweeps) == 1
                ? throw new InvalidOperationException("A whole sweep that fails.")
                : Task.CompletedTask,
        };
        var logs = new UploadLogCollector();
        await using var app = App(time, services =>
        {
            services.AddSingleton(hooks);
            logs.AddTo(services);
        });
        await using var connection = await app.ConnectAsync(Protocol.Json, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        var stale = await BeginAsync(connection);

        time.Advance(TimeSpan.FromDays(1));
        await Timeouts.WaitUntilAsync(() => logs.WithId(SweepFailed).Count == 1, Timeouts.Default, "the failed sweep logged");
        Assert.Equal(0, (await connection.Hub.GetUploadStatusAsync(stale.UploadId)).ReceivedBytes);
        await AssertTheServerGoesOnAsync(app, connection);

        time.Advance(TimeSpan.FromDays(1));
        await connection.Hub.WaitUntilUploadGoneAsync(stale.UploadId);
        Assert.Equal(2, Volatile.Read(ref sweeps));
    }

    /// <summary>
    /// A complete upload past its retention whose record cannot be deleted (a folder stands where it was): the
    /// upload is gone, the failure is logged, and another upload of the same look is deleted all the same.
    /// </summary>
    [Fact]
    public async Task ACompleteUploadWhoseFilesCannotBeDeletedIsLoggedAndTheJanitorAndTheServerGoOn()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new UploadLogCollector();
        await using var app = App(time, logs.AddTo);
        await using var connection = await app.ConnectAsync(Protocol.Json, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var stuck = await CompleteAsync(connection, cts.Token);
        var other = await CompleteAsync(connection, cts.Token);
        var record = Path.Combine(app.DataPath, stuck.UploadId + ".json");
        File.Delete(record);
        Directory.CreateDirectory(Path.Combine(record, "in-the-way"));

        time.Advance(TimeSpan.FromDays(31));
        await connection.Hub.WaitUntilUploadGoneAsync(stuck.UploadId);
        await connection.Hub.WaitUntilUploadGoneAsync(other.UploadId);
        await Timeouts.WaitUntilAsync(() => logs.WithId(FilesNotDeleted).Count > 0, Timeouts.Default, "the failure logged");

        Assert.Contains(stuck.UploadId, Assert.Single(logs.WithId(FilesNotDeleted)).Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(app.DataPath, other.UploadId + ".json")));
        Assert.False(File.Exists(Path.Combine(app.DataPath, other.UploadId + ".data")));
        await AssertTheServerGoesOnAsync(app, connection);
    }

    // ---- Helpers ----

    /// <summary>The host is not stopping, and the connection still uploads.</summary>
    private static async Task AssertTheServerGoesOnAsync(SensorHubApplication app, TestConnection connection)
    {
        Assert.False(app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        Assert.True((await CompleteAsync(connection, cts.Token)).Complete);
    }

    /// <summary>
    /// Unfinished uploads are stale after a day and complete ones go after 30, by the fake clock; the janitor looks
    /// every day of it.
    /// </summary>
    private static SensorHubApplication App(FakeTimeProvider time, Action<IServiceCollection> services) =>
        new(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:StaleAfter"] = "1.00:00:00",
            ["SensorHub:Uploads:RetainCompleteFor"] = "30.00:00:00",
            ["SensorHub:Uploads:CleanupInterval"] = "1.00:00:00",
        })
        {
            TestServices = s =>
            {
                FakeClock.Use(s, time);
                services(s);
            },
        };

    private static Task<UploadStatus> BeginAsync(TestConnection connection) =>
        connection.Hub.BeginUploadAsync(new UploadRequest { Name = "janitor.bin", ContentType = "application/octet-stream", TotalBytes = Chunk });

    private static async Task<UploadResult> CompleteAsync(TestConnection connection, CancellationToken cancellationToken)
    {
        var begun = await BeginAsync(connection);
        return await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([new byte[Chunk]]), cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
    }
}
