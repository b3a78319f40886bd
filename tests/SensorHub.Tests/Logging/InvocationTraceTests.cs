using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Logging;

[CollectionDefinition(nameof(InvocationTraceTests), DisableParallelization = true)]
public sealed class InvocationTraceCollection;

/// <summary>
/// SignalR's activity of each hub call (one per invocation, a stream's until it ends) carries the connection's hub
/// protocol and, when SensorHub refused the call, its error code in <c>error.type</c> with status Error, in place of
/// the exception type SignalR puts there. Alone in its collection: the listener hears every app in the process.
/// </summary>
[Collection(nameof(InvocationTraceTests))]
public sealed class InvocationTraceTests
{
    public static TheoryData<Protocol> Protocols => [Protocol.Json, Protocol.MessagePack];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ACallCarriesItsProtocolAndNoError(Protocol protocol)
    {
        await using var app = new SensorHubApplication();
        await using var connection = await app.ConnectAsync(protocol);
        using var activities = new InvocationActivities();

        await connection.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, new SensorQuery()).WaitAsync(Timeouts.Default);

        var call = await activities.StoppedAsync(SensorHubMethods.ListSensors);
        Assert.Equal(NameOf(protocol), call.GetTagItem(SensorHubTelemetry.HubProtocol));
        Assert.Equal("signalr", call.GetTagItem("rpc.system"));
        Assert.Null(call.GetTagItem(SensorHubTelemetry.ErrorType));
        Assert.Equal(ActivityStatusCode.Unset, call.Status);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ARefusedCallCarriesItsCode(Protocol protocol)
    {
        await using var app = new SensorHubApplication();
        await using var connection = await app.ConnectAsync(protocol);
        using var activities = new InvocationActivities();

        var refusal = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.InvokeAsync<UploadStatus>(SensorHubMethods.GetUploadStatus, Guid.NewGuid().ToString("N")).WaitAsync(Timeouts.Default));

        // The code the client was told, not SignalR's exception type.
        var code = SensorHubErrors.CodeOf(refusal.Message);
        Assert.NotNull(code);
        var call = await activities.StoppedAsync(SensorHubMethods.GetUploadStatus);
        Assert.Equal(NameOf(protocol), call.GetTagItem(SensorHubTelemetry.HubProtocol));
        Assert.Equal(code, call.GetTagItem(SensorHubTelemetry.ErrorType));
        Assert.Equal(ActivityStatusCode.Error, call.Status);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task AStreamsActivityLastsUntilItEnds(Protocol protocol)
    {
        await using var app = new SensorHubApplication();
        var sensor = Sensors.NewId();
        await app.Engine.PublishAsync(sensor, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var activities = new InvocationActivities();
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var stream = connection.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensor, new SubscribeOptions { FromSequence = 0 }, cts.Token);
        await using (var readings = stream.GetAsyncEnumerator(cts.Token))
        {
            Assert.True(await readings.MoveNextAsync());
            Assert.Empty(activities.Stopped(SensorHubMethods.Subscribe));
            await cts.CancelAsync();
        }

        var call = await activities.StoppedAsync(SensorHubMethods.Subscribe);
        Assert.Equal(NameOf(protocol), call.GetTagItem(SensorHubTelemetry.HubProtocol));
        Assert.Null(call.GetTagItem(SensorHubTelemetry.ErrorType));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task AStreamRefusedWhileRunningCarriesItsCode(Protocol protocol)
    {
        await using var app = new SensorHubApplication();
        await using var connection = await app.ConnectAsync(protocol);
        using var activities = new InvocationActivities();

        // An unknown sensor is found on the stream's first step, while SignalR enumerates it, after the filters.
        var refusal = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in connection.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, Sensors.NewId(), null).WithCancellation(new CancellationTokenSource(Timeouts.Default).Token))
            {
            }
        });

        Assert.Contains(SensorHubErrors.UnknownSensor, refusal.Message, StringComparison.Ordinal);
        var call = await activities.StoppedAsync(SensorHubMethods.Subscribe);
        Assert.Equal(SensorHubErrors.UnknownSensor, call.GetTagItem(SensorHubTelemetry.ErrorType));
        Assert.Equal(ActivityStatusCode.Error, call.Status);
    }

    private static string NameOf(Protocol protocol) => protocol == Protocol.Json ? "json" : "messagepack";

    /// <summary>SignalR's invocation activities stopped while it listens, recorded as an exporter would see them.</summary>
    private sealed class InvocationActivities : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public InvocationActivities()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == SensorHubTelemetry.SignalRActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> Stopped(string method) =>
            [.. _stopped.Where(a => Equals(a.GetTagItem(SensorHubTelemetry.RpcMethod), method))];

        public async Task<Activity> StoppedAsync(string method)
        {
            await Timeouts.WaitUntilAsync(() => Stopped(method).Count > 0, Timeouts.Default, $"{method}'s activity to stop");
            return Assert.Single(Stopped(method));
        }

        public void Dispose() => _listener.Dispose();
    }
}
