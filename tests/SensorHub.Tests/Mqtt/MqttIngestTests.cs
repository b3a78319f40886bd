using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SensorHub.Contracts;
using SensorHub.Server.Mqtt;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Mqtt;

/// <summary>
/// The MQTT ingest against a real broker (Debian's mosquitto, one per test class): what devices publish reaches
/// SignalR subscribers as readings, invalid messages are counted and skipped, and neither a SensorHub restart nor a
/// broker restart loses what the broker kept.
/// </summary>
public sealed class MqttIngestTests : IAsyncLifetime
{
    private MosquittoServer _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoServer.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task BareNumbersArriveAtASubscriberInOrderUnderTheTopicWithoutThePrefix()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root);
        using var device = await _broker.ConnectClientAsync();

        for (var i = 0; i < 50; i++)
            await device.PublishAsync($"{root}/plant-1/line-2/temperature", (20 + i * 0.5).ToString(CultureInfo.InvariantCulture));

        var readings = await app.ReadAsync("plant-1/line-2/temperature", 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 20 + i * 0.5), readings.Select(r => r.Value));
        Sensors.AssertConsecutive(readings);
        Assert.All(readings, r => Assert.Equal("plant-1/line-2/temperature", r.SensorId));
        await app.WaitForCountAsync(MqttOutcome.Published, 50);
    }

    [Fact]
    public async Task WithoutStripPrefixTheSensorIdIsTheTopic()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root, settings: new Dictionary<string, string?> { ["SensorHub:Mqtt:StripPrefix"] = null });
        using var device = await _broker.ConnectClientAsync();

        await device.PublishAsync($"{root}/boiler", " 71.25\n");

        var reading = Assert.Single(await app.ReadAsync($"{root}/boiler", 1));
        Assert.Equal(71.25, reading.Value);
    }

    [Fact]
    public async Task JsonObjectsCarryTheirTimestampOrTakeTheTimeTheyArrived()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root);
        using var device = await _broker.ConnectClientAsync();
        var before = DateTime.UtcNow.AddMinutes(-1);

        await device.PublishAsync($"{root}/room", """{"value": 21.5, "timestamp": "2026-01-30T10:00:00Z", "unit": "C"}""");
        await device.PublishAsync($"{root}/room", """{"value": 22}""");
        await device.PublishAsync($"{root}/room", """{"value": 22.5, "timestamp": 1767225600.25}""");

        var readings = await app.ReadAsync("room", 3);
        Assert.Equal([21.5, 22, 22.5], readings.Select(r => r.Value));
        Assert.Equal(new DateTime(2026, 1, 30, 10, 0, 0, DateTimeKind.Utc), readings[0].Timestamp);
        Assert.Equal(DateTimeKind.Utc, readings[1].Timestamp.Kind);
        Assert.True(readings[1].Timestamp > before, $"{readings[1].Timestamp:O} is the time it arrived");
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1767225600.25), readings[2].Timestamp);
    }

    [Fact]
    public async Task JsonFieldNamesAreSettings()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Mqtt:ValueField"] = "temp",
            ["SensorHub:Mqtt:TimestampField"] = "at",
        });
        using var device = await _broker.ConnectClientAsync();

        await device.PublishAsync($"{root}/room", """{"value": 1, "temp": 19.5, "at": "2026-02-01T08:30:00Z"}""");

        var reading = Assert.Single(await app.ReadAsync("room", 1));
        Assert.Equal(19.5, reading.Value);
        Assert.Equal(new DateTime(2026, 2, 1, 8, 30, 0, DateTimeKind.Utc), reading.Timestamp);
    }

    [Fact]
    public async Task SenMLRecordsBecomeReadingsOfSensorsNamedUnderTheTopic()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root);
        using var device = await _broker.ConnectClientAsync();

        await device.PublishAsync($"{root}/dev-7", """
            [
              {"bn": "env/", "bt": 1767225600, "n": "temperature", "u": "Cel", "v": 21.5},
              {"n": "humidity", "u": "%RH", "v": 40, "t": 1},
              {"n": "status", "vs": "ok"},
              {"n": "temperature", "v": 21.75, "t": 10}
            ]
            """);

        var temperature = await app.ReadAsync("dev-7/env/temperature", 2);
        Assert.Equal([21.5, 21.75], temperature.Select(r => r.Value));
        Assert.Equal([DateTime.UnixEpoch.AddSeconds(1767225600), DateTime.UnixEpoch.AddSeconds(1767225610)], temperature.Select(r => r.Timestamp));
        var humidity = Assert.Single(await app.ReadAsync("dev-7/env/humidity", 1));
        Assert.Equal(40, humidity.Value);
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1767225601), humidity.Timestamp);
        Assert.Null(await app.App.Engine.FindSensorAsync("dev-7/env/status", CancellationToken.None));
    }

    [Fact]
    public async Task BadMessagesAreCountedByReasonAndSkippedWhileGoodOnesGoOn()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root);
        using var device = await _broker.ConnectClientAsync();

        await device.PublishAsync($"{root}/good", "1");
        await device.PublishAsync($"{root}/good", "twenty");
        await device.PublishAsync($"{root}/good", """{"value": "21.5"}""");
        await device.PublishAsync($"{root}/good", """{"value": 1, "timestamp": "yesterday"}""");
        await device.PublishAsync($"{root}/good", "[]");
        await device.PublishAsync($"{root}/good", "");
        await device.PublishAsync($"{root}/not a sensor", "5");
        await device.PublishAsync($"{root}/good", "NaN");
        await device.PublishAsync($"{root}/good", """{"value": 3, "timestamp": "2100-01-01T00:00:00Z"}""");
        await device.PublishAsync($"{root}/good", "2");

        var readings = await app.ReadAsync("good", 2);
        Assert.Equal([1.0, 2.0], readings.Select(r => r.Value));
        Sensors.AssertConsecutive(readings);
        await app.WaitForCountAsync(MqttOutcome.Published, 2);
        await app.WaitForCountAsync(MqttOutcome.BadPayload, 5);
        await app.WaitForCountAsync(MqttOutcome.InvalidSensorId, 1);
        await app.WaitForCountAsync(MqttOutcome.Rejected, 2);
        Assert.Equal(2, app.Count(MqttOutcome.Rejected, SensorHubErrors.InvalidArgument));
        Assert.Equal(2, app.Count(MqttOutcome.Published));
        Assert.True(app.Metrics.Connected);
    }

    [Fact]
    public async Task ASensorHubRestartLosesNoneOfTheMessagesTheBrokerKept()
    {
        var root = MosquittoServer.NewTopicRoot();
        var clientId = "sensorhub-restart-" + root;
        using var device = await _broker.ConnectClientAsync();
        await using (var first = await MqttApp.StartAsync(_broker, root, clientId))
        {
            for (var i = 0; i < 5; i++)
                await device.PublishAsync($"{root}/meter", i.ToString(CultureInfo.InvariantCulture));
            Assert.Equal([0.0, 1, 2, 3, 4], (await first.ReadAsync("meter", 5)).Select(r => r.Value));
        }

        // SensorHub is down: the broker keeps these for the session of the ingest's client id.
        for (var i = 5; i < 25; i++)
            await device.PublishAsync($"{root}/meter", i.ToString(CultureInfo.InvariantCulture));

        await using var second = await MqttApp.StartAsync(_broker, root, clientId);
        // A new in-memory engine: it holds only what the broker delivered after the restart, and that is all 20, in order,
        // and none of the 5 acknowledged before.
        var readings = await second.ReadAsync("meter", 20);
        Assert.Equal(Enumerable.Range(5, 20).Select(i => (double)i), readings.Select(r => r.Value));
        Sensors.AssertConsecutive(readings);
        var meter = await second.App.Engine.FindSensorAsync("meter", CancellationToken.None);
        Assert.Equal(20, meter!.LastSequence - meter.FirstSequence + 1);
    }

    [Fact]
    public async Task ABrokerRestartIsSurvived()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var app = await MqttApp.StartAsync(_broker, root);
        using (var device = await _broker.ConnectClientAsync())
        {
            await device.PublishAsync($"{root}/pump", "1");
            await device.PublishAsync($"{root}/pump", "2");
            Assert.Equal([1.0, 2], (await app.ReadAsync("pump", 2)).Select(r => r.Value));
        }

        _broker.Stop();
        await Timeouts.WaitUntilAsync(() => !app.Metrics.Connected, Timeouts.Default, "the ingest sees the broker gone");
        await _broker.StartAgainAsync();
        await app.WaitConnectedAsync();

        using var again = await _broker.ConnectClientAsync();
        await again.PublishAsync($"{root}/pump", "3");
        await again.PublishAsync($"{root}/pump", "4");
        var readings = await app.ReadAsync("pump", 4);
        Assert.Equal([1.0, 2, 3, 4], readings.Select(r => r.Value));
        Sensors.AssertConsecutive(readings);
    }

    [Fact]
    public async Task TwoNodesInOneSharedGroupTakeEachMessageOnce()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var a = await MqttApp.StartAsync(_broker, root, "sensorhub-a-" + root);
        await using var b = await MqttApp.StartAsync(_broker, root, "sensorhub-b-" + root);
        using var device = await _broker.ConnectClientAsync();

        const int sent = 40;
        for (var i = 0; i < sent; i++)
            await device.PublishAsync($"{root}/flow/{i % 4}", i.ToString(CultureInfo.InvariantCulture));

        await Timeouts.WaitUntilAsync(
            () => a.Count(MqttOutcome.Published) + b.Count(MqttOutcome.Published) >= sent, Timeouts.Default, $"{sent} messages taken in over the two nodes");
        // A sentinel behind them all on each node's share: once both have it, anything taken twice would have been counted.
        await Timeouts.WaitUntilAsync(async () =>
        {
            await device.PublishAsync($"{root}/sentinel", "0");
            return await a.App.Engine.FindSensorAsync("sentinel", CancellationToken.None) is not null
                   && await b.App.Engine.FindSensorAsync("sentinel", CancellationToken.None) is not null;
        }, Timeouts.Default, "a sentinel reached both nodes");
        var sentinels = a.Count(MqttOutcome.Published) + b.Count(MqttOutcome.Published) - sent;
        var readings = await CountReadingsAsync(a, sent) + await CountReadingsAsync(b, sent);
        Assert.Equal(sent, readings);
        Assert.True(sentinels >= 2, $"{sentinels} sentinels");
    }

    [Fact]
    public async Task WithoutTopicsTheIngestIsOffAndConnectsToNothing()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Mqtt:Host"] = "127.0.0.1",
            ["SensorHub:Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture),
        });

        var ingest = app.Services.GetServices<IHostedService>().OfType<MqttIngestService>().Single();

        // It ended as it started, without awaiting anything: no connection was tried, now or later.
        Assert.NotNull(ingest.ExecuteTask);
        Assert.True(ingest.ExecuteTask.IsCompletedSuccessfully);
        Assert.False(listener.Pending());
        Assert.False(app.Services.GetRequiredService<MqttIngestMetrics>().Connected);
    }

    private static async Task<int> CountReadingsAsync(MqttApp node, int sent)
    {
        var count = 0;
        for (var i = 0; i < 4; i++)
        {
            if (await node.App.Engine.FindSensorAsync($"flow/{i}", CancellationToken.None) is { } sensor)
                count += (int)(sensor.LastSequence - sensor.FirstSequence + 1);
        }
        Assert.InRange(count, 0, sent);
        return count;
    }
}
