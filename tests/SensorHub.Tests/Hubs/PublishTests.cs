using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The publishing contract. What crosses nodes runs over every engine target (a device on node A, a viewer on node B);
/// the checks of single items stay on one in-memory server over both transports.
/// </summary>
public sealed class PublishTests(EngineFixture engines, ApplicationFixture apps) : IClassFixture<EngineFixture>, IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task PublishedReadingsGetConsecutiveSequencesAndReachSubscribers(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var sensorId = Sensors.NewId("device");
        await using var device = await nodes.A.ConnectAsync(protocol);
        await using var viewer = await nodes.B.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var stamp = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

        var result = await device.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish,
            Items(Enumerable.Range(0, 500).Select(i => new ReadingInput { SensorId = sensorId, Value = i, Timestamp = stamp.AddMilliseconds(i) })),
            cts.Token);
        var readings = await viewer.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 500, cts.Token);

        Assert.Equal(new PublishResult { Accepted = 500, Rejected = 0, Rejections = [] }, result with { Rejections = [] });
        Assert.Empty(result.Rejections);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (double)i), readings.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => stamp.AddMilliseconds(i)), readings.Select(r => r.Timestamp));
        Assert.All(readings, r => Assert.Equal(sensorId, r.SensorId));
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task PublishingToANewSensorRegistersItAsADevice(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var sensorId = Sensors.NewId("device");
        await using var connection = await nodes.A.ConnectAsync(protocol);
        await using var viewer = await nodes.B.ConnectAsync(protocol);
        var before = DateTime.UtcNow;

        var result = await connection.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish, Items([new ReadingInput { SensorId = sensorId, Value = 3.25 }])).WaitAsync(Timeouts.Default);
        var sensors = await viewer.Hub.ListAllSensorsAsync(sensorId);

        Assert.Equal(1, result.Accepted);
        var sensor = Assert.Single(sensors, s => s.Id == sensorId);
        Assert.Equal(("device", sensorId, (string?)null, 3.25), (sensor.Kind, sensor.Name, sensor.Unit, sensor.LastValue));
        Assert.InRange(sensor.LastSequence, 1, (1L << 53) - 1);
        // No timestamp: the server's clock.
        Assert.InRange(sensor.LastTimestamp!.Value, before.AddSeconds(-1), DateTime.UtcNow.AddSeconds(1));
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task BadItemsAreRejectedAloneAndTheItemsAroundThemKept(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var sensorId = Sensors.NewId("device");
        await using var connection = await nodes.A.ConnectAsync(protocol);
        await using var viewer = await nodes.B.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var items = new List<ReadingInput?>
        {
            new() { SensorId = sensorId, Value = 0 },
            new() { SensorId = "bad id", Value = 1 },
            new() { SensorId = sensorId, Value = 2 },
            new() { SensorId = null, Value = 3 },
            new() { SensorId = "/rooted", Value = 4 },
            new() { SensorId = sensorId, Value = 5, Timestamp = DateTime.UtcNow.AddHours(2) },
            null,
            new() { SensorId = sensorId, Value = 7, Timestamp = DateTime.UtcNow.AddMinutes(30) },
        };
        var expected = new List<(long Index, string? SensorId, string Reason)>
        {
            (1, "bad id", "sensorId contains U+0020"),
            (3, null, "sensorId is required"),
            (4, "/rooted", "sensorId must not start with '/'"),
            (5, sensorId, "is more than 01:00:00 ahead of the server's clock"),
            (6, null, "the item is null"),
        };
        if (protocol == Protocol.MessagePack)
        {
            // Only MessagePack can carry these; JSON has no NaN or infinity.
            items.Add(new() { SensorId = sensorId, Value = double.NaN });
            items.Add(new() { SensorId = sensorId, Value = double.NegativeInfinity });
            expected.Add((8, sensorId, "value is NaN"));
            expected.Add((9, sensorId, "value is infinite"));
        }
        items.Add(new() { SensorId = sensorId, Value = 10 });

        var result = await connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Items(items), cts.Token);
        var kept = await viewer.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 4, cts.Token);

        Assert.Equal(4, result.Accepted);
        Assert.Equal(expected.Count, result.Rejected);
        Assert.Equal(expected.Count, result.Rejections.Length);
        foreach (var (rejection, (index, id, reason)) in result.Rejections.Zip(expected))
        {
            Assert.Equal(index, rejection.Index);
            Assert.Equal(id, rejection.SensorId);
            Assert.Equal(SensorHubErrors.InvalidArgument, rejection.Code);
            Assert.Contains(reason, rejection.Reason, StringComparison.Ordinal);
        }
        Assert.Equal([0.0, 2, 7, 10], kept.Select(r => r.Value));
        Sensors.AssertConsecutive(kept);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    [Fact]
    public async Task OnlyTheFirstRejectionsAreListedButAllAreCounted()
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(Protocol.MessagePack);

        var result = await connection.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish,
            Items(Enumerable.Range(0, 50).Select(i => new ReadingInput { SensorId = $"bad id {i}", Value = i }))).WaitAsync(Timeouts.Default);

        Assert.Equal((0, 50), (result.Accepted, result.Rejected));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), result.Rejections.Select(r => r.Index));
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task AHugeSensorIdComesBackCutToItsBound(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        await using var connection = await app.ConnectAsync(protocol);
        var huge = new string('h', 500_000);

        var result = await connection.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish, Items([new ReadingInput { SensorId = huge, Value = 1 }])).WaitAsync(Timeouts.Default);

        var rejection = Assert.Single(result.Rejections);
        Assert.Equal(new string('h', SensorId.MaxLength) + "…", rejection.SensorId);
        Assert.Equal((SensorHubErrors.InvalidArgument, "sensorId is 500000 characters long; at most 128 are allowed"), (rejection.Code, rejection.Reason));
    }

    [Fact]
    public async Task EachRejectedItemIsCountedInTheStatsByItsCode()
    {
        var app = apps[Transport.TestServer];
        var before = await app.GetStatsAsync();
        await using var device = await app.ConnectAsync(Protocol.Json, TestUser.Device($"counted-{Guid.NewGuid():N}", "mine/"));

        var result = await device.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish,
            Items<ReadingInput?>([null, new ReadingInput { SensorId = "bad id" }, new ReadingInput { SensorId = "theirs/1" }, new ReadingInput { SensorId = Sensors.NewId("mine") }]))
            .WaitAsync(Timeouts.Default);
        var after = await app.GetStatsAsync();

        Assert.Equal((1, 3), (result.Accepted, result.Rejected));
        Assert.Equal(before.Refusals[SensorHubErrors.InvalidArgument] + 2, after.Refusals[SensorHubErrors.InvalidArgument]);
        Assert.Equal(before.Refusals[SensorHubErrors.NotAllowed] + 1, after.Refusals[SensorHubErrors.NotAllowed]);
    }

    private static async IAsyncEnumerable<T> Items<T>(IEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
            await Task.Yield();
        }
    }
}
