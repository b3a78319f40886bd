using System.Globalization;
using SensorHub.Server.Mqtt;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Mqtt;

/// <summary>
/// The MQTT ingest on two Redis nodes in one shared subscription group: each broker message becomes one reading of the
/// cluster, whichever node took it in, and a subscriber on either node sees them all.
/// </summary>
public sealed class MqttRedisTests : IAsyncLifetime
{
    private MosquittoServer _broker = null!;
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _broker = await MosquittoServer.StartAsync();
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task TwoRedisNodesInOneSharedGroupPublishEachMessageOnceForTheCluster()
    {
        var root = MosquittoServer.NewTopicRoot();
        await using var nodes = new RedisNodes(_redis);
        await using var a = await MqttApp.OfAsync(nodes.StartNode(MqttApp.Settings(_broker, root, "sensorhub-a-" + root)));
        await using var b = await MqttApp.OfAsync(nodes.StartNode(MqttApp.Settings(_broker, root, "sensorhub-b-" + root)));
        using var device = await _broker.ConnectClientAsync();

        const int sent = 40;
        for (var i = 0; i < sent; i++)
            await device.PublishAsync($"{root}/line/flow", i.ToString(CultureInfo.InvariantCulture));

        // Read on node A, from the sensor's first reading: all 40, whichever node took each one in. Across two nodes the
        // cluster's order of one topic is the order they reached Redis, so the values are compared as a set.
        var readings = await a.ReadAsync("line/flow", sent);
        Assert.Equal(Enumerable.Range(0, sent).Select(i => (double)i), readings.Select(r => r.Value).Order());
        Sensors.AssertConsecutive(readings);
        await Timeouts.WaitUntilAsync(
            () => a.Count(MqttOutcome.Published) + b.Count(MqttOutcome.Published) >= sent, Timeouts.Default, "both nodes counted what they took in");
        Assert.Equal(sent, a.Count(MqttOutcome.Published) + b.Count(MqttOutcome.Published));
        Assert.True(a.Count(MqttOutcome.Published) > 0 && b.Count(MqttOutcome.Published) > 0,
            $"the broker shared the messages: A {a.Count(MqttOutcome.Published)}, B {b.Count(MqttOutcome.Published)}");
        var sensor = await b.App.Engine.FindSensorAsync("line/flow", CancellationToken.None);
        Assert.Equal(sent, sensor!.LastSequence - readings[0].Sequence + 1);
    }
}
