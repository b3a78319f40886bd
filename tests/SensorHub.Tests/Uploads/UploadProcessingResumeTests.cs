using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// A processed upload across a crash or a processing failure: rows on disk that were never processed are published
/// when the upload resumes, each row exactly once over the two servers, and the summary is the one it would have been
/// without the interruption. A crash is a server whose worker a hook stops between the write of a chunk and its
/// processing, disposed while it stands there, then a second server on the same data folder.
/// </summary>
public sealed class UploadProcessingResumeTests
{
    private const long FirstTimestamp = 1_700_000_000_000;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task CsvRowsOnDiskButNotProcessedWhenTheServerStopsArePublishedOnceAfterTheRestart(int stoppedAtRow)
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var sensorId = Sensors.NewId("crash");
        // One row per chunk; the last row has no newline, so that it is only published when the upload completes.
        var rows = Enumerable.Range(1, 4).Select(i => Row(sensorId, i) + (i < 4 ? "\n" : "")).Select(Encoding.UTF8.GetBytes).ToArray();
        var total = rows.Sum(r => r.Length);
        var stopAt = rows.Take(stoppedAtRow - 1).Sum(r => r.Length);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        var hooks = new UploadHooks
        {
            // The crash: the worker never gets past this chunk, nor runs anything after it.
            BeforeProcessing = (_, offset, _) =>
            {
                if (offset < stopAt)
                    return Task.CompletedTask;
                stopped.TrySetResult();
                return never.Task;
            },
        };
        string uploadId;
        List<double> publishedBefore;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings) { TestServices = s => s.AddSingleton(hooks) })
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "rows.csv", ContentType = "text/csv", TotalBytes = total })).UploadId;
            var upload = connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(rows), cts.Token);
            await stopped.Task.WaitAsync(Timeouts.Default);
            await Timeouts.WaitUntilAsync(() => first.Services.GetStatus(uploadId).ReceivedBytes == total, Timeouts.Default, "every row on disk");
            publishedBefore = await ValuesAsync(first, sensorId);
            Assert.False(upload.IsCompleted);
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        var status = await again.Hub.GetUploadStatusAsync(uploadId);
        var result = await again.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks(Array.Empty<byte[]>()), cts.Token).WaitAsync(Timeouts.Default);
        var publishedAfter = await ValuesAsync(second, sensorId);

        Assert.Equal((total, false), (status.ReceivedBytes, status.Complete));
        Assert.Equal(Enumerable.Range(1, stoppedAtRow - 1).Select(i => (double)i), publishedBefore);
        Assert.Equal(Enumerable.Range(stoppedAtRow, 5 - stoppedAtRow).Select(i => (double)i), publishedAfter);
        Assert.True(result.Complete);
        Assert.Equal(UploadStreams.Sha256Of(rows.SelectMany(r => r).ToArray()), result.Sha256);
        var csv = Assert.IsType<CsvSummary>(result.Csv);
        Assert.Equal((4L, 4L, 0L), (csv.Rows, csv.Accepted, csv.Rejected));
    }

    [Fact]
    public async Task CsvSummaryIsTheSameAfterARestartAlsoForRowsTheUploaderMayNotPublish()
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var device = TestUser.Device("dev-bounded", "allowed/");
        var denied = Sensors.NewId("denied");
        var allowed = Sensors.NewId("allowed");
        var head = Encoding.UTF8.GetBytes("sensorId,timestamp,value\n" + string.Concat(Enumerable.Range(1, 4).Select(i => Row(denied, i) + "\n")));
        var tail = Encoding.UTF8.GetBytes($"{Row(allowed, 5)}\n{Row(denied, 6)}\n");
        string uploadId;
        UploadResult before;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json, device);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "mixed.csv", ContentType = "text/csv", TotalBytes = head.Length + tail.Length,
            })).UploadId;
            before = await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(head, 16), cts.Token).WaitAsync(Timeouts.Default);
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json, device);
        var resumed = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks(Array.Empty<byte[]>()), cts.Token).WaitAsync(Timeouts.Default);
        var done = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks([tail]), cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal((4L, 0L, 4L), (before.Csv!.Rows, before.Csv.Accepted, before.Csv.Rejected));
        Assert.Equal([2L, 3L, 4L, 5L], before.Csv.FirstRejections.Select(r => r.Line));
        Assert.All(before.Csv.FirstRejections, r => Assert.StartsWith("not allowed to publish to sensor", r.Reason, StringComparison.Ordinal));
        Assert.Equal(Describe(before), Describe(resumed));
        Assert.True(done.Complete);
        Assert.Equal((6L, 1L, 5L), (done.Csv!.Rows, done.Csv.Accepted, done.Csv.Rejected));
        Assert.Equal([2L, 3L, 4L, 5L, 7L], done.Csv.FirstRejections.Select(r => r.Line));
        Assert.Equal([5.0], await ValuesAsync(second, allowed));
        Assert.Empty(await ValuesAsync(second, denied));
    }

    [Fact]
    public async Task LogSummaryIsTheSameAfterARestartAndCountsEveryLineOnce()
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var head = Encoding.UTF8.GetBytes("INFO one\nERROR two\nWARN thr");
        var tail = Encoding.UTF8.GetBytes("ee\nERROR four\nplain");
        string uploadId;
        UploadResult before;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "app.log", ContentType = "text/plain", TotalBytes = head.Length + tail.Length,
            })).UploadId;
            before = await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks(head, 5), cts.Token).WaitAsync(Timeouts.Default);
        }

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        var resumed = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks(Array.Empty<byte[]>()), cts.Token).WaitAsync(Timeouts.Default);
        var done = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks(tail, 5), cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal((2L, 1L, 0L, 1L), (before.Log!.Lines, before.Log.Errors, before.Log.Warnings, before.Log.Infos));
        Assert.Equal(Describe(before), Describe(resumed));
        Assert.True(done.Complete);
        Assert.Equal((5L, 2L, 1L, 1L, 1L), (done.Log!.Lines, done.Log.Errors, done.Log.Warnings, done.Log.Infos, done.Log.Other));
        Assert.Equal([(2L, "ERROR two"), (4L, "ERROR four")], done.Log.FirstErrors.Select(e => (e.Line, e.Text)));
    }

    [Fact]
    public async Task ARecordFromBeforeCheckpointsResumesWithoutPublishingItsRowsAgain()
    {
        using var folder = new SharedDataFolder();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var sensorId = Sensors.NewId("legacy");
        var head = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(1, 3).Select(i => Row(sensorId, i) + "\n")) + sensorId);
        var tail = Encoding.UTF8.GetBytes($",{FirstTimestamp + 4},4\n{Row(sensorId, 5)}\n");
        string uploadId;

        await using (var first = new SensorHubApplication(Transport.TestServer, folder.Settings))
        {
            await using var connection = await first.ConnectAsync(Protocol.Json);
            uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "old.csv", ContentType = "text/csv", TotalBytes = head.Length + tail.Length,
            })).UploadId;
            await connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks([head]), cts.Token).WaitAsync(Timeouts.Default);
        }
        // As an earlier server wrote it: no checkpoint.
        var recordFile = Path.Combine(folder.Path, uploadId + ".json");
        var record = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(recordFile, cts.Token))!.AsObject();
        Assert.True(record.Remove("processed"));
        await File.WriteAllTextAsync(recordFile, record.ToJsonString(), cts.Token);

        await using var second = new SensorHubApplication(Transport.TestServer, folder.Settings);
        await using var again = await second.ConnectAsync(Protocol.Json);
        var done = await again.Hub.UploadAsync(uploadId, head.Length, UploadStreams.Chunks([tail]), cts.Token).WaitAsync(Timeouts.Default);

        Assert.True(done.Complete);
        Assert.Equal((5L, 5L, 0L), (done.Csv!.Rows, done.Csv.Accepted, done.Csv.Rejected));
        Assert.Equal([4.0, 5.0], await ValuesAsync(second, sensorId));
    }

    [Fact]
    public async Task RowsFromAFailedPublishOnArePublishedOnceWhenTheUploadResumes()
    {
        var sensorId = Sensors.NewId("flaky");
        var engine = new FlakyEngine(sensorId, failingValue: 3);
        await using var app = new SensorHubApplication(Transport.TestServer)
        {
            TestServices = services => services
                .AddSingleton<InMemoryFeedEngine>()
                .AddSingleton<IFeedEngine>(provider => engine.Over(provider.GetRequiredService<InMemoryFeedEngine>())),
        };
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        // Rows 1 to 4 in one chunk, the publish of row 3 fails: rows 1 and 2 are out, 3 and 4 are not.
        var first = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(1, 4).Select(i => Row(sensorId, i) + "\n")));
        var second = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(5, 2).Select(i => Row(sensorId, i) + "\n")));
        var all = first.Concat(second).ToArray();
        var uploadId = (await connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "flaky.csv", ContentType = "text/csv", TotalBytes = all.Length, Sha256 = UploadStreams.Sha256Of(all),
        })).UploadId;

        var failure = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(uploadId, 0, UploadStreams.Chunks([first]), cts.Token).WaitAsync(Timeouts.Default));
        var status = await connection.Hub.GetUploadStatusAsync(uploadId);
        var resumed = await connection.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks([second]), cts.Token).WaitAsync(Timeouts.Default);

        Assert.Null(SensorHubErrors.CodeOf(failure.Message));
        Assert.Equal(1, engine.Failures);
        Assert.Equal((first.Length, false), (status.ReceivedBytes, status.Complete));
        Assert.Equal((true, UploadStreams.Sha256Of(all)), (resumed.Complete, resumed.Sha256));
        Assert.Equal((6L, 6L, 0L), (resumed.Csv!.Rows, resumed.Csv.Accepted, resumed.Csv.Rejected));
        Assert.Equal([1.0, 2, 3, 4, 5, 6], await ValuesAsync(app, sensorId));
    }

    private static string Row(string sensorId, int value) =>
        string.Create(CultureInfo.InvariantCulture, $"{sensorId},{FirstTimestamp + value},{value}");

    /// <summary>A result's summaries as text, arrays included (records compare arrays by reference).</summary>
    private static string Describe(UploadResult result) =>
        System.Text.Json.JsonSerializer.Serialize(new { result.Log, result.Csv });

    /// <summary>Every value published to the sensor on that server, in sequence order.</summary>
    private static async Task<List<double>> ValuesAsync(SensorHubApplication app, string sensorId)
    {
        var readings = await app.Services.GetRequiredService<IReadingHistory>().ReadAsync(sensorId, 0, 10_000, CancellationToken.None);
        Sensors.AssertConsecutive(readings);
        return [.. readings.Select(r => r.Value)];
    }

    /// <summary>The server's engine, except that publishing one value to one sensor fails the first time, as a back end that is briefly away would.</summary>
    private sealed class FlakyEngine(string sensorId, double failingValue)
    {
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public IFeedEngine Over(IFeedEngine inner) => new Engine(this, inner);

        private bool FailsNow(string publishedTo, double value) =>
            publishedTo == sensorId && value == failingValue && Interlocked.CompareExchange(ref _failures, 1, 0) == 0;

        private sealed class Engine(FlakyEngine flaky, IFeedEngine inner) : IFeedEngine
        {
            public ValueTask<PublishOutcome> PublishAsync(
                string sensorId, double value, DateTime timestampUtc, SensorRegistration registration, CancellationToken cancellationToken) =>
                flaky.FailsNow(sensorId, value)
                    ? throw new IOException("The feed's back end is away.")
                    : inner.PublishAsync(sensorId, value, timestampUtc, registration, cancellationToken);

            public ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken) => inner.RegisterAsync(sensor, cancellationToken);

            public ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken) => inner.FindSensorAsync(sensorId, cancellationToken);

            public ValueTask<SensorPage> ListSensorsAsync(
                string prefix, string? after, int limit, Predicate<string>? visible, CancellationToken cancellationToken) =>
                inner.ListSensorsAsync(prefix, after, limit, visible, cancellationToken);

            public ValueTask<int> RemoveIdleSensorsAsync(TimeSpan idleFor, CancellationToken cancellationToken) =>
                inner.RemoveIdleSensorsAsync(idleFor, cancellationToken);

            public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken) =>
                inner.SubscribeAsync(sensorId, mode, cancellationToken);

            public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken) =>
                inner.SubscribeAsync(sensorId, buffer, cancellationToken);

            public ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken) =>
                inner.WatchSensorsAsync(prefix, cancellationToken);

            public FeedCounters GetCounters() => inner.GetCounters();
        }
    }
}
