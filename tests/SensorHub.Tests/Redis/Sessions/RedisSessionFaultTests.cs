using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Server.Redis.Sessions;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Redis.Sessions;

/// <summary>Sessions when Redis misbehaves: a cut pub/sub connection loses no event; a Redis gone past the grace period ends the streams and refuses at once.</summary>
public sealed class RedisSessionFaultTests(RedisSessionCluster cluster) : IClassFixture<RedisSessionCluster>
{
    [Fact]
    public async Task MembersMissNoEventWhenThePubSubConnectionsAreKilled()
    {
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceOnC = await cluster.C.ConnectAsync(Protocol.Json, alice);
        await using var bobOnB = await cluster.B.ConnectAsync(Protocol.Json, bob);
        var session = await aliceOnC.Hub.CreateSessionAsync();
        await using var bobStream = bobOnB.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceOnC.Hub.AnnotateAsync(session.Id, "note 0");
        await bobStream.ExpectAsync(SessionEventKinds.Annotated);

        await cluster.Redis.AdminServer.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        for (var i = 1; i <= 10; i++)
            await aliceOnC.Hub.AnnotateAsync(session.Id, $"note {i}");

        var texts = new List<string>();
        for (var i = 1; i <= 10; i++)
            texts.Add((await bobStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"note {i}"), texts);
        await aliceOnC.Hub.AnnotateAsync(session.Id, "after");
        Assert.Equal("after", (await bobStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        bobStream.AssertNothingPending();
        await aliceOnC.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task AnEventThatNeverCameOverPubSubIsDeliveredByThePositionCheckInItsPlace()
    {
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceOnC = await cluster.C.ConnectAsync(Protocol.Json, alice);
        await using var bobOnB = await cluster.B.ConnectAsync(Protocol.Json, bob);
        var session = await aliceOnC.Hub.CreateSessionAsync();
        await using var bobStream = bobOnB.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        var silent = new Annotation { Id = Guid.NewGuid().ToString("N"), Author = alice.Name, AuthorId = alice.Name, Text = "silent", Time = DateTime.UtcNow };

        // What a script does, without its PUBLISH: as if the channel had stalled for this one event.
        var key = cluster.Nodes.Prefix + "session:" + session.Id;
        await cluster.Redis.Admin.ScriptEvaluateAsync(
            """
            local s = string.format('%d', redis.call('INCR', KEYS[1]))
            redis.call('XADD', KEYS[2], s .. '-0', 'e', cjson.encode({s, 'annotated', ARGV[1]}))
            """,
            [key + ":seq", key + ":events"],
            [JsonSerializer.Serialize(silent, RedisSessionJson.Default.Annotation)]);

        Assert.Equal(silent, (await bobStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation);
        await aliceOnC.Hub.AnnotateAsync(session.Id, "loud");
        Assert.Equal("loud", (await bobStream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        bobStream.AssertNothingPending();
        await aliceOnC.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task WhenRedisIsGonePastTheGracePeriodLiveStreamsEndWithBackendUnavailableAndJoinsAreRefused()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = new RedisNodes(redis, Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Redis:GracePeriod"] = "00:00:01",
        });
        var node = await nodes.StartNodeAsync();
        await using var alice = await node.ConnectAsync(Protocol.Json, NewOperator("alice"));
        var session = await alice.Hub.CreateSessionAsync();
        await using var stream = alice.Hub.JoinSession(session.Id);
        await stream.SnapshotAsync();

        redis.Pause();
        try
        {
            var ended = await Assert.ThrowsAsync<HubException>(() => stream.Completion.WaitAsync(Timeouts.Default));
            await using var refused = alice.Hub.JoinSession(session.Id);
            var error = await Assert.ThrowsAsync<HubException>(() => refused.Completion.WaitAsync(TimeSpan.FromSeconds(3)));
            var create = await Assert.ThrowsAsync<HubException>(() => alice.Hub.CreateSessionAsync().WaitAsync(TimeSpan.FromSeconds(3)));

            Assert.Contains("[backend_unavailable] This node cannot reach Redis", ended.Message, StringComparison.Ordinal);
            Assert.Contains("[backend_unavailable]", error.Message, StringComparison.Ordinal);
            Assert.Contains("[backend_unavailable]", create.Message, StringComparison.Ordinal);
        }
        finally
        {
            redis.Resume();
        }
    }
}
