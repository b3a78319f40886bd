using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Hubs;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Logging;

/// <summary>
/// Every log written while a hub stream runs carries the call's fields (a log scope): the connection, the invocation
/// id the client gave, the method, and the sensor, session or upload it is about. Server-to-client streams run in
/// SignalR's flow after the filters return; client-to-server ones inside the call.
/// </summary>
public sealed class InvocationLogScopeTests
{
    // The event ids of the entries provoked here (FeedsLog, HubLog, UploadsLog, SessionsLog).
    private const int StreamStarted = 1002;
    private const int StreamEnded = 1003;
    private const int ManyStreamStarted = 1009;
    private const int PublishEnded = 1004;
    private const int Refused = 2003;
    private const int UploadCompleted = 4002;
    private const int JoinedSession = 5003;

    public static TheoryData<Protocol> Protocols => [Protocol.Json, Protocol.MessagePack];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task LogsOfServerStreamsCarryTheirOwnInvocation(Protocol protocol)
    {
        var logs = new ScopeCapturingLoggerProvider();
        await using var app = new SensorHubApplication { TestServices = logs.AddTo };
        var (first, second, unknown) = (Sensors.NewId(), Sensors.NewId(), Sensors.NewId());
        await app.Engine.PublishAsync(first, 1);
        await app.Engine.PublishAsync(second, 1);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var client = await RawHubClient.ConnectAsync(app, cts.Token);
        await client.HandshakeAsync(protocol, cts.Token);

        // Two streams at once, and one refused on its first step (an unknown sensor): each log must name its own call.
        await client.SubscribeAsync("first-7", first, null, cts.Token);
        await client.SubscribeAsync("second-8", second, null, cts.Token);
        await client.SubscribeAsync("unknown-9", unknown, null, cts.Token);
        var startedFirst = await logs.WaitForAsync(l => l.EventId == StreamStarted && Equals(l.State["SensorId"], first), "the first stream's start");
        var startedSecond = await logs.WaitForAsync(l => l.EventId == StreamStarted && Equals(l.State["SensorId"], second), "the second stream's start");
        var refused = await logs.WaitForAsync(l => l.EventId == Refused && Equals(l.State["Code"], SensorHubErrors.UnknownSensor), "the refusal");
        await client.CancelInvocationAsync("first-7", cts.Token);
        await client.CancelInvocationAsync("second-8", cts.Token);
        var endedFirst = await logs.WaitForAsync(l => l.EventId == StreamEnded && Equals(l.State["SensorId"], first), "the first stream's end");
        var endedSecond = await logs.WaitForAsync(l => l.EventId == StreamEnded && Equals(l.State["SensorId"], second), "the second stream's end");

        // The refusal's own fields name the connection; every entry's scope must name the same.
        var connectionId = Assert.IsType<string>(refused.State["ConnectionId"]);
        AssertCall(startedFirst, connectionId, "first-7", SensorHubMethods.Subscribe, InvocationLogScope.SensorIdField, first);
        AssertCall(endedFirst, connectionId, "first-7", SensorHubMethods.Subscribe, InvocationLogScope.SensorIdField, first);
        AssertCall(startedSecond, connectionId, "second-8", SensorHubMethods.Subscribe, InvocationLogScope.SensorIdField, second);
        AssertCall(endedSecond, connectionId, "second-8", SensorHubMethods.Subscribe, InvocationLogScope.SensorIdField, second);
        AssertCall(refused, connectionId, "unknown-9", SensorHubMethods.Subscribe, InvocationLogScope.SensorIdField, unknown);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task LogsOfASubscribeManyStreamCarryItsPattern(Protocol protocol)
    {
        var logs = new ScopeCapturingLoggerProvider();
        await using var app = new SensorHubApplication { TestServices = logs.AddTo };
        var pattern = Sensors.NewId("scoped") + "/#";
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var batches = connection.Hub.StreamAsync<Reading[]>(SensorHubMethods.SubscribeMany, pattern, null, cts.Token).GetAsyncEnumerator(cts.Token);
        var moved = batches.MoveNextAsync();
        var started = await logs.WaitForAsync(l => l.EventId == ManyStreamStarted && Equals(l.State["Pattern"], pattern), "the stream's start");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await moved);

        AssertCall(started, null, null, SensorHubMethods.SubscribeMany, InvocationLogScope.SensorPatternField, pattern);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task LogsOfASessionStreamCarryTheSession(Protocol protocol)
    {
        var logs = new ScopeCapturingLoggerProvider();
        await using var app = new SensorHubApplication { TestServices = logs.AddTo };
        var sensor = Sensors.NewId();
        await app.Engine.PublishAsync(sensor, 1);
        await using var connection = await app.ConnectAsync(protocol);
        var session = await connection.Hub.InvokeAsync<SessionInfo>(
            SensorHubMethods.CreateSession, new CreateSessionRequest { Title = "scoped", SensorIds = [sensor] }).WaitAsync(Timeouts.Default);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var events = connection.Hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, session.Id, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await events.MoveNextAsync());
        var joined = await logs.WaitForAsync(l => l.EventId == JoinedSession && Equals(l.State["SessionId"], session.Id), "the join");

        AssertCall(joined, null, null, SensorHubMethods.JoinSession, InvocationLogScope.SessionIdField, session.Id);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task LogsOfClientStreamsCarryTheirCall(Protocol protocol)
    {
        var logs = new ScopeCapturingLoggerProvider();
        await using var app = new SensorHubApplication { TestServices = logs.AddTo };
        await using var connection = await app.ConnectAsync(protocol);
        var readings = new[] { new ReadingInput { SensorId = Sensors.NewId(), Value = 1 }, new ReadingInput { SensorId = "", Value = 2 } };
        var data = UploadStreams.RandomBytes(1000);
        var upload = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "scoped.bin", ContentType = "application/octet-stream", TotalBytes = data.Length });

        await connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, readings.ToAsyncEnumerable()).WaitAsync(Timeouts.Default);
        await connection.Hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks([data])).WaitAsync(Timeouts.Default);
        var published = await logs.WaitForAsync(l => l.EventId == PublishEnded, "the publish stream's end");
        var uploaded = await logs.WaitForAsync(l => l.EventId == UploadCompleted && Equals(l.State["UploadId"], upload.UploadId), "the upload's end");

        // The .NET client numbers its invocations itself: the ids are checked to be there, and to differ.
        var connectionId = Assert.IsType<string>(published.Scope[InvocationLogScope.ConnectionIdField]);
        AssertCall(published, connectionId, null, SensorHubMethods.Publish, null, null);
        AssertCall(uploaded, connectionId, null, SensorHubMethods.Upload, InvocationLogScope.UploadIdField, upload.UploadId);
        Assert.NotEqual(published.Scope[InvocationLogScope.InvocationIdField], uploaded.Scope[InvocationLogScope.InvocationIdField]);
    }

    /// <summary>
    /// The entry's scope names the call: <paramref name="connectionId"/> and <paramref name="invocationId"/> are
    /// checked to be exactly these where given, to be there where not.
    /// </summary>
    private static void AssertCall(CapturedLog log, string? connectionId, string? invocationId, string method, string? subjectField, string? subject)
    {
        var scope = log.Scope;
        Assert.True(scope.ContainsKey(InvocationLogScope.ConnectionIdField), $"'{log.Message}' was logged without the call's fields.");
        if (connectionId is null)
            Assert.False(string.IsNullOrEmpty(scope[InvocationLogScope.ConnectionIdField] as string));
        else
            Assert.Equal(connectionId, scope[InvocationLogScope.ConnectionIdField]);
        if (invocationId is null)
            Assert.False(string.IsNullOrEmpty(scope[InvocationLogScope.InvocationIdField] as string));
        else
            Assert.Equal(invocationId, scope[InvocationLogScope.InvocationIdField]);
        Assert.Equal(method, scope[InvocationLogScope.MethodField]);
        if (subjectField is null)
        {
            Assert.DoesNotContain(InvocationLogScope.SensorIdField, scope.Keys);
            Assert.DoesNotContain(InvocationLogScope.UploadIdField, scope.Keys);
            Assert.DoesNotContain(InvocationLogScope.SessionIdField, scope.Keys);
        }
        else
        {
            Assert.Equal(subject, scope[subjectField]);
        }
    }
}
