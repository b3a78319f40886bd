using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>Each bad argument gets a HubException that names it, and the connection goes on working.</summary>
public sealed class BadInputTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    public static TheoryData<Transport, Protocol, string?, string> BadSensorIds
    {
        get
        {
            var cases = new (string? Id, string Message)[]
            {
                (null, "sensorId is required"),
                ("", "sensorId is empty"),
                (new string('a', 129), "sensorId is 129 characters long; at most 128"),
                ("/plant-1/temp", "sensorId must not start with '/'"),
                ("plant 1", "sensorId contains U+0020"),
                ("plant*1", "sensorId contains '*'"),
                ("plant-1/température", "sensorId contains 'é'"),
                ("nobody/published/this", "sensorId: no sensor 'nobody/published/this' is known"),
            };
            var data = new TheoryData<Transport, Protocol, string?, string>();
            foreach (var transport in Enum.GetValues<Transport>())
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                {
                    foreach (var (id, message) in cases)
                        data.Add(transport, protocol, id, message);
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadSensorIds))]
    public async Task BadSensorIdIsRefusedByNameAndTheConnectionStillWorks(Transport transport, Protocol protocol, string? sensorId, string message)
    {
        var app = apps[transport];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var single = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(sensorId!, null, 1, cts.Token));
        var batches = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadBatchesAsync(sensorId!, null, 1, cts.Token));

        Assert.Contains(message, single.Message, StringComparison.Ordinal);
        Assert.Contains(message, batches.Message, StringComparison.Ordinal);
        // A well-formed id that no one has published to is not a malformed argument: a client may retry it later.
        var code = sensorId == "nobody/published/this" ? SensorHubErrors.UnknownSensor : SensorHubErrors.InvalidArgument;
        Assert.Equal(code, SensorHubErrors.CodeOf(single.Message));
        Assert.Equal(code, SensorHubErrors.CodeOf(batches.Message));
        await AssertConnectionStillWorksAsync(app, connection, cts.Token);
    }

    private const string MaxRateOutOfRange = "options.maxRate must be from 0.001 to 1000000 readings per second";

    public static TheoryData<Transport, Protocol, long?, double?, string> BadOptions
    {
        get
        {
            var cases = new (long? From, double? Rate, string Message)[]
            {
                (-1, null, "options.fromSequence must be 0 or more; it was -1"),
                (long.MinValue, null, "options.fromSequence must be 0 or more"),
                (null, 0, MaxRateOutOfRange),
                (null, -20, MaxRateOutOfRange + "; it was -20"),
                // Small enough to overflow a pacing interval: once, this leaked the subscription it had attached.
                (null, 1e-13, MaxRateOutOfRange + "; it was 1E-13"),
                (null, 1e-7, MaxRateOutOfRange),
                (null, 0.000999, MaxRateOutOfRange),
                (null, 1_000_001, MaxRateOutOfRange + "; it was 1000001"),
            };
            var data = new TheoryData<Transport, Protocol, long?, double?, string>();
            foreach (var transport in Enum.GetValues<Transport>())
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                {
                    foreach (var (from, rate, message) in cases)
                        data.Add(transport, protocol, from, rate, message);
                }
                // JSON has no NaN or infinity; MessagePack carries both.
                data.Add(transport, Protocol.MessagePack, null, double.NaN, MaxRateOutOfRange);
                data.Add(transport, Protocol.MessagePack, null, double.PositiveInfinity, MaxRateOutOfRange);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task BadSubscribeOptionIsRefusedByNameAndTheConnectionStillWorks(
        Transport transport, Protocol protocol, long? fromSequence, double? maxRate, string message)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var options = new SubscribeOptions { FromSequence = fromSequence, MaxRate = maxRate };

        var single = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(sensorId, options, 1, cts.Token));
        var batches = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadBatchesAsync(sensorId, options, 1, cts.Token));

        Assert.Contains(message, single.Message, StringComparison.Ordinal);
        Assert.Contains(message, batches.Message, StringComparison.Ordinal);
        Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(single.Message));
        Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(batches.Message));
        // A refused start leaves no live buffer behind for later publishes to write to.
        Assert.Equal(0, Sensors.SubscribersOf(app, sensorId));
        await AssertConnectionStillWorksAsync(app, connection, cts.Token);
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task StreamOverTheLimitIsRefusedAndTheOthersGoOn(Transport transport, Protocol protocol)
    {
        const int limit = 100;
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        await using var other = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        using var first = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        // Other tests' streams on this server may still be ending: at most this many are not this test's.
        var streamsBefore = app.Activity.ActiveStreams;

        // Both streaming methods count against one limit.
        var open = new List<Task<List<Reading>>>
        {
            connection.Hub.ReadReadingsAsync(sensorId, null, int.MaxValue, first.Token),
        };
        for (var i = 1; i < limit; i++)
        {
            open.Add(i % 2 == 0
                ? connection.Hub.ReadReadingsAsync(sensorId, null, int.MaxValue, cts.Token)
                : connection.Hub.ReadBatchesAsync(sensorId, null, int.MaxValue, cts.Token).ContinueWith(t => t.Result.Readings, TaskScheduler.Default));
        }
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId, limit);

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("Too many open streams", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{limit}", refused.Message, StringComparison.Ordinal);
        // The limit is per connection: another connection may still subscribe.
        var live = other.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token);
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId, limit + 1);
        var published = await app.Engine.PublishAsync(sensorId, 1);
        Assert.Equal(published, await live);

        // Ending one stream frees its place: once SignalR has disposed it, just after its generator's finally (which
        // detaches the subscriber) has run.
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => open[0]);
        await Timeouts.WaitUntilAsync(
            () => Sensors.SubscribersOf(app, sensorId) == limit - 1 && app.Activity.ActiveStreams <= streamsBefore + limit - 1,
            Timeouts.Default,
            "one stream ended and gave its place back");
        var again = connection.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token);
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId, limit);
        var next = await app.Engine.PublishAsync(sensorId, 1);
        Assert.Equal(next, await again);
        Assert.All(open.Skip(1), task => Assert.False(task.IsCompleted));
        await cts.CancelAsync();
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task OversizedMessageClosesOnlyItsOwnConnection(Protocol protocol)
    {
        var app = apps[Transport.Kestrel];
        await using var connection = await app.ConnectAsync(protocol);
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Hub.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };

        // 2 MB of sensor id is over the MaximumReceiveMessageSize, which fits a 1 MiB upload chunk as base64.
        var call = connection.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, new string('x', 2_000_000));

        await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(Timeouts.Default));
        Assert.NotNull(await closed.Task.WaitAsync(Timeouts.Default));
        await using var fresh = await app.ConnectAsync(protocol);
        await fresh.Hub.ListSensorsAsync(null);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task MessageOverSignalRsDefaultLimitButUnderTheConfiguredOneIsAccepted(Protocol protocol)
    {
        var app = apps[Transport.Kestrel];
        await using var connection = await app.ConnectAsync(protocol);
        var sensorId = Sensors.NewId();
        // About 48 KB: SignalR's default MaximumReceiveMessageSize (32 KB) would close the connection.
        var items = new[]
        {
            new ReadingInput { SensorId = new string('x', 48_000), Value = 1 },
            new ReadingInput { SensorId = sensorId, Value = 2 },
        }.ToAsyncEnumerable();

        var result = await connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, items).WaitAsync(Timeouts.Default);

        Assert.Equal((1, 1), (result.Accepted, result.Rejected));
        Assert.Contains("sensorId is 48000 characters long", result.Rejections[0].Reason, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    private static async Task AssertConnectionStillWorksAsync(SensorHubApplication app, TestConnection connection, CancellationToken cancellationToken)
    {
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        var sensorId = Sensors.NewId("after");
        var history = await app.Engine.PublishAsync(sensorId, 2);
        var readings = await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 2, cancellationToken);
        Assert.Equal(history, readings);
    }
}
