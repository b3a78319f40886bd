using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Server.Telemetry;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// One activity per <c>Upload</c> stream, a child of SignalR's invocation activity, with the upload's id, the offset,
/// the bytes written and, on a refusal or failure, the code as <c>error.type</c> and an Error status. The listener
/// is process-wide: the test picks its own activities out by their upload id.
/// </summary>
public sealed class UploadActivityTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>, IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private ActivityListener? _listener;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AnAppendIsAnActivityUnderSignalRsInvocationWithItsBytes(Protocol protocol)
    {
        Listen();
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        var data = UploadStreams.RandomBytes(300);
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "a.bin", TotalBytes = 300 });

        // Two appends: the first stops after 100 bytes (the client's stream ends), the second resumes there.
        await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data[..100], 50)).WaitAsync(Timeouts.Default);
        await connection.Hub.UploadAsync(begun.UploadId, 100, UploadStreams.Chunks(data[100..], 50)).WaitAsync(Timeouts.Default);

        var appends = await AppendsOfAsync(begun.UploadId, 2);
        Assert.Equal([0L, 100L], appends.Select(a => a.GetTagItem(UploadActivity.Offset)));
        Assert.Equal([100L, 200L], appends.Select(a => a.GetTagItem(UploadActivity.BytesWritten)));
        Assert.All(appends, append =>
        {
            Assert.Equal(UploadActivity.Name, append.OperationName);
            Assert.Equal(ActivityStatusCode.Unset, append.Status);
            Assert.Null(append.GetTagItem(SensorHubTelemetry.ErrorType));
            var invocation = append.Parent;
            Assert.NotNull(invocation);
            Assert.Equal(SensorHubTelemetry.SignalRActivitySourceName, invocation.Source.Name);
            Assert.Equal(SensorHubMethods.Upload, invocation.GetTagItem(SensorHubTelemetry.RpcMethod));
            Assert.Equal(invocation.TraceId, append.TraceId);
        });
        Assert.NotEqual(appends[0].Parent!.SpanId, appends[1].Parent!.SpanId);
    }

    [Fact]
    public async Task ARefusedAppendCarriesItsCodeAndAnErrorStatus()
    {
        Listen();
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(Protocol.Json);
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "b.bin", TotalBytes = 10 });

        await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.UploadAsync(begun.UploadId, 4, UploadStreams.Chunks(new byte[6], 6)).WaitAsync(Timeouts.Default));

        var refused = Assert.Single(await AppendsOfAsync(begun.UploadId, 1));
        Assert.Equal(ActivityStatusCode.Error, refused.Status);
        Assert.Equal(SensorHubErrors.UploadOffsetMismatch, refused.GetTagItem(SensorHubTelemetry.ErrorType));
        Assert.Equal(4L, refused.GetTagItem(UploadActivity.Offset));
        Assert.Equal(0L, refused.GetTagItem(UploadActivity.BytesWritten));
        Assert.Equal(SensorHubTelemetry.SignalRActivitySourceName, refused.Parent?.Source.Name);
    }

    [Fact]
    public async Task NoActivityIsMadeWhenNobodyListens()
    {
        // Nothing listens to the source in this test (a listener of another test class may: then this says nothing).
        if (SensorHubTelemetry.ActivitySource.HasListeners())
            return;
        Assert.Null(UploadActivity.Start(new string('a', 32), 0));
        await Task.CompletedTask;
    }

    public void Dispose() => _listener?.Dispose();

    private void Listen()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is SensorHubTelemetry.ActivitySourceName or SensorHubTelemetry.SignalRActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The append activities of one upload, in the order they stopped, once <paramref name="count"/> have.</summary>
    private async Task<List<Activity>> AppendsOfAsync(string uploadId, int count)
    {
        List<Activity> Appends() => _stopped
            .Where(a => a.Source == SensorHubTelemetry.ActivitySource && a.GetTagItem(UploadActivity.UploadId) as string == uploadId)
            .ToList();
        await Timeouts.WaitUntilAsync(() => Appends().Count >= count, Timeouts.Default, $"{count} append activities stopped");
        return Appends();
    }
}
