using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;
using SensorHub.Server.Redis;
using SensorHub.Tests.Infrastructure;
using StackExchange.Redis;

namespace SensorHub.Tests.Redis.Feeds;

/// <summary>Feeds when Redis fails: each test has a redis-server of its own, which it stops, pauses or restarts.</summary>
public sealed class RedisFeedFaultTests
{
    [Fact]
    public async Task RedisDownPastTheGracePeriodEndsEveryStreamWithBackendUnavailableAndRefusesAtOnce()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:00:00.500" });
        var node = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        await node.Engine.PublishAsync(sensorId, 3);
        await using var connection = await node.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var stream = ReadUntilErrorAsync(connection.Hub, sensorId, cts.Token);
        var batches = ReadUntilErrorAsync(connection.Hub, sensorId, cts.Token, SensorHubMethods.SubscribeBatches);
        await FeedProbe.WaitForSubscribersAsync(node, sensorId, 2);

        redis.Stop();
        foreach (var ended in new[] { await stream, await batches })
        {
            Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf(ended.Message));
            Assert.Contains("cannot reach Redis", ended.Message, StringComparison.Ordinal);
        }

        var publish = await Assert.ThrowsAsync<SensorHubException>(
            async () => await node.Engine.PublishAsync(sensorId, 1, DateTime.UtcNow, SensorRegistration.ByServer, CancellationToken.None));
        Assert.Equal(SensorHubErrors.BackendUnavailable, publish.Code);
        var subscribe = await ReadUntilErrorAsync(connection.Hub, sensorId, cts.Token);
        Assert.Equal(SensorHubErrors.BackendUnavailable, SensorHubErrors.CodeOf(subscribe.Message));
    }

    [Fact]
    public async Task AnOutageShorterThanTheGracePeriodIsRiddenOutWithoutAGap()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis);
        var a = await nodes.StartNodeAsync();
        var b = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        await a.Engine.PublishAsync(sensorId, 1);
        await using var connection = await b.ConnectAsync(Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var received = connection.Hub.ReadReadingsAsync(sensorId, null, 200, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(b, sensorId);

        var published = await a.Engine.PublishAsync(sensorId, 100);
        redis.Pause();
        var resume = Task.Delay(TimeSpan.FromSeconds(1)).ContinueWith(_ => redis.Resume(), TaskScheduler.Default);
        // Published while Redis is paused: each waits in StackExchange.Redis until Redis answers again.
        published.AddRange(await a.Engine.PublishAsync(sensorId, 100, firstValue: 100));
        await resume;

        Assert.Equal(published, await received);
    }

    [Fact]
    public async Task AfterARedisRestartThatLostTheLastWritesNoSequenceIsIssuedAgain()
    {
        await using var redis = await RedisServer.StartAsync(appendOnly: true);
        await using var nodes = new RedisNodes(redis);
        var node = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        var issued = await node.Engine.PublishAsync(sensorId, 10);
        await using var connection = await node.ConnectAsync(Protocol.Json);

        // What an AOF with appendfsync everysec loses in a crash: the last writes. Played here by taking the last five
        // readings back out (the counter and the stream), then a crash once the AOF has them.
        var keyOf = (string part) => (RedisKey)(nodes.Prefix + part + sensorId);
        await redis.Admin.HashSetAsync(keyOf("feeds:s:"), "last", issued[4].Sequence);
        await redis.Admin.StreamDeleteAsync(keyOf("feeds:h:"), issued.Skip(5).Select(r => (RedisValue)$"{r.Sequence}-0").ToArray());
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await redis.RestartAsync();
        await WaitForRedisAsync(node);

        var next = await node.Engine.PublishAsync(sensorId, 2);
        Assert.True(next[0].Sequence > issued[^1].Sequence, $"{next[0].Sequence} was issued before the restart (up to {issued[^1].Sequence}).");
        Assert.Equal(next[0].Sequence + 1, next[1].Sequence);
        Assert.InRange(next[^1].Sequence, 1, (1L << 53) - 1);

        // What survived is replayable, and a subscriber resuming from before the restart sees a jump, never a repeat.
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var replay = await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = issued[0].Sequence }, 7, cts.Token);
        Assert.Equal([.. issued.Take(5), .. next], replay);
    }

    [Fact]
    public async Task APublishWhoseOutcomeIsUnknownIsNeverSentAgainAndSaysWhatWasAccepted()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis, settings: new Dictionary<string, string?>
        {
            ["SensorHub:Redis:Configuration"] = redis.Configuration + ",asyncTimeout=500",
            ["SensorHub:Redis:GracePeriod"] = "00:00:30",
        });
        var node = await nodes.StartNodeAsync();
        var sensorId = Sensors.NewId();
        var first = await node.Engine.PublishAsync(sensorId, 1);
        var ingest = node.Services.GetRequiredService<ReadingIngest>();

        redis.Pause();
        SensorHubException failed;
        try
        {
            failed = await Assert.ThrowsAsync<SensorHubException>(() => ingest.PublishAsync(ThreeReadings(sensorId), Publisher.Server, CancellationToken.None));
        }
        finally
        {
            redis.Resume();
        }

        Assert.Equal(SensorHubErrors.BackendUnavailable, failed.Code);
        Assert.Contains("0 readings of this stream were accepted", failed.Message, StringComparison.Ordinal);
        Assert.Contains("not sent again", failed.Message, StringComparison.Ordinal);
        // The script was sent before Redis stopped answering: Redis runs it once when it resumes, and nothing sends it
        // again. A later publish proves every earlier command has been answered.
        var after = await node.Engine.PublishAsync(sensorId, 1);
        var history = await node.Services.GetRequiredService<IReadingHistory>().ReadAsync(sensorId, 0, 100, CancellationToken.None);
        Assert.Equal([first[0].Sequence, .. Enumerable.Range(1, 3).Select(i => first[0].Sequence + i), first[0].Sequence + 4], history.Select(r => r.Sequence));
        Assert.Equal(after[0], history[^1]);
    }

    private static async IAsyncEnumerable<ReadingInput?> ThreeReadings(string sensorId)
    {
        for (var i = 0; i < 3; i++)
            yield return new ReadingInput { SensorId = sensorId, Value = i };
        await Task.CompletedTask;
    }

    private static async Task WaitForRedisAsync(SensorHubApplication node)
    {
        var database = node.Services.GetRequiredService<RedisConnection>().Database;
        await Timeouts.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await database.PingAsync();
                    return true;
                }
                catch (RedisException)
                {
                    return false;
                }
            },
            Timeouts.Default,
            "the node reaches Redis again");
    }

    /// <summary>Reads a stream until it ends with an error, and returns it; fails the test if it ends without one.</summary>
    private static async Task<HubException> ReadUntilErrorAsync(
        HubConnection hub, string sensorId, CancellationToken cancellationToken, string method = SensorHubMethods.Subscribe)
    {
        try
        {
            if (method == SensorHubMethods.Subscribe)
            {
                await foreach (var _ in hub.StreamAsync<Reading>(method, sensorId, null, cancellationToken))
                {
                }
            }
            else
            {
                await foreach (var _ in hub.StreamAsync<Reading[]>(method, sensorId, null, cancellationToken))
                {
                }
            }
        }
        catch (HubException e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException("The stream ended without an error.");
    }
}
