using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Redis.Feeds;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// <c>SubscribeMany</c> against the limits: its one buffer for all its sensors (a slow consumer's drops are visible
/// per sensor and counted), the per-connection stream cap, and the server's stop. Each test has a server of its own.
/// </summary>
public sealed class SubscribeManyLimitsTests
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ASubscribeManyIsOneStreamAgainstTheCapHoweverManySensorsItFollows(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:MaxStreamsPerConnection"] = "2",
        });
        var plant = Sensors.NewId("many-cap");
        var ids = Enumerable.Range(0, 5).Select(i => $"{plant}/{i}").ToArray();
        foreach (var id in ids)
            await app.Engine.PublishAsync(id, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var first = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/#", null, cts.Token);
        await using var second = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/+", null, cts.Token);
        foreach (var id in ids)
            await FeedProbe.WaitForSubscribersAsync(app, id, 2);

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(ids[0], null, 1, cts.Token));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(refused.Message));
        Assert.Equal(2, app.Activity.ActiveStreams);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task TheServersStopEndsTheStreamNormallyAfterWhatItHas(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:ShutdownDrainTimeout"] = "00:00:10",
        });
        var plant = Sensors.NewId("many-stop");
        await app.Engine.PublishAsync($"{plant}/a", 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/#", null, cts.Token);
        // A paced stream on a pattern that matches nothing yet: its buffer has no sensor to complete it.
        await using var empty = SubscribeManyConsumer.Start(connection.Hub, $"{plant}-none/#", new SubscribeManyOptions { MaxRate = 0.01 }, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(app, $"{plant}/a");
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == 2, Timeouts.Default, "both streams open");
        var published = await app.Engine.PublishAsync($"{plant}/a", 5);
        var activity = app.Activity;

        await Task.Run(app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication).WaitAsync(Timeouts.Default);

        await consumer.Completion.WaitAsync(Timeouts.Default);
        await empty.Completion.WaitAsync(Timeouts.Default);
        Assert.Equal(published, consumer.Readings());
        Assert.Empty(empty.Readings());
        Assert.Equal(0, activity.ActiveStreams);
    }

    [Fact]
    public async Task ASlowConsumerLosesTheOldestPerSensorVisiblyAndCounted()
    {
        const int Capacity = 50;
        const int PerSensor = 20_000;
        await using var app = new SensorHubApplication(Transport.Kestrel, new Dictionary<string, string?>
        {
            ["SensorHub:Feeds:SubscribeManyBufferCapacity"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var plant = Sensors.NewId("many-slow");
        string[] ids = [$"{plant}/a", $"{plant}/b"];
        var firsts = new Dictionary<string, long>();
        foreach (var id in ids)
            firsts[id] = (await app.Engine.PublishAsync(id, 1))[0].Sequence;
        using var cts = new CancellationTokenSource(Timeouts.Default * 4);
        var droppedBefore = (await app.GetStatsAsync()).ReadingsDropped;

        // A consumer that does not read while the readings are published: a 4 KiB receive window, then nothing.
        await using var slow = await RawHubClient.ConnectOverTcpAsync(app.HubUri, receiveBufferSize: 4096, cts.Token);
        await slow.HandshakeAsync(Protocol.Json, cts.Token);
        await slow.SendJsonAsync($$"""{"type":4,"invocationId":"1","target":"SubscribeMany","arguments":["{{plant}}/+",null]}""", cts.Token);
        foreach (var id in ids)
            await FeedProbe.WaitForSubscribersAsync(app, id);
        var last = new Dictionary<string, long>();
        for (var i = 0; i < PerSensor; i++)
        {
            foreach (var id in ids)
                last[id] = (await app.Engine.PublishAsync(id, i, DateTime.UtcNow, CancellationToken.None)).Sequence;
        }

        // Now it reads everything: per sensor in order, no duplicate, with jumps where the buffer dropped the oldest.
        var received = ids.ToDictionary(id => id, _ => new List<long>());
        while (ids.Any(id => received[id].Count == 0 || received[id][^1] != last[id]))
        {
            using var message = JsonDocument.Parse(await slow.ReadJsonMessageAsync(cts.Token));
            var root = message.RootElement;
            if (root.GetProperty("type").GetInt32() != 2)
                continue;
            foreach (var reading in root.GetProperty("item").EnumerateArray())
                received[reading.GetProperty("sensorId").GetString()!].Add(reading.GetProperty("sequence").GetInt64());
        }

        long jumps = 0;
        foreach (var id in ids)
        {
            var sequences = received[id];
            Assert.True(sequences[0] > firsts[id]);
            for (var i = 1; i < sequences.Count; i++)
            {
                Assert.True(sequences[i] > sequences[i - 1], $"{id}: {sequences[i - 1]} is followed by {sequences[i]}.");
                jumps += sequences[i] - sequences[i - 1] - 1;
            }
            jumps += sequences[0] - firsts[id] - 1;
        }
        // What it lost shows, and every reading lost is counted (the buffer holds far fewer than were published).
        Assert.True(jumps > 0, "Nothing was dropped: the consumer was not slow.");
        Assert.Equal(jumps, (await app.GetStatsAsync()).ReadingsDropped - droppedBefore);
        Assert.True(received.Values.Sum(r => r.Count) < 2 * PerSensor);
    }
}
