using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Sessions;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Redis.Sessions;

/// <summary>Sessions across three nodes on one redis-server behave as one: presence, order, the snapshot's seam, evictions, ends, dead nodes.</summary>
public sealed class RedisSessionAcrossNodesTests(RedisSessionCluster cluster) : IClassFixture<RedisSessionCluster>
{
    private const Protocol Json = Protocol.Json;

    [Fact]
    public async Task AUserWithStreamsOnTwoNodesIsOneParticipantWhoJoinsWithTheFirstAndLeavesWithTheLast()
    {
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceOnC = await cluster.C.ConnectAsync(Json, alice);
        await using var bobOnA = await cluster.A.ConnectAsync(Json, bob);
        await using var bobOnB = await cluster.B.ConnectAsync(Json, bob);
        var session = await aliceOnC.Hub.CreateSessionAsync();
        await using var aliceStream = aliceOnC.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();

        await using var bobStream1 = bobOnA.Hub.JoinSession(session.Id);
        await bobStream1.SnapshotAsync();
        var joined = await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        await using var bobStream2 = bobOnB.Hub.JoinSession(session.Id);
        var secondSnapshot = await bobStream2.SnapshotAsync();
        await bobStream1.CancelAsync();
        await Timeouts.WaitUntilAsync(
            async () => (await RedisSessionCluster.ParticipantsAsync(cluster.A, session.Id)).Single(p => p.Name == bob.Name).Connections == 1,
            Timeouts.Default, "bob has one stream left");
        // Something after the first stream's end: a 'left' for it would have come before this.
        await aliceOnC.Hub.AnnotateAsync(session.Id, "bob is still here");
        await aliceStream.ExpectAsync(SessionEventKinds.Annotated);
        await bobStream2.CancelAsync();
        var left = await aliceStream.ExpectAsync(SessionEventKinds.Left);

        Assert.Equal(new Participant { Id = bob.Name, Name = bob.Name, Connections = 1 }, joined.Participant);
        Assert.Equal(2, secondSnapshot.Participants!.Single(p => p.Name == bob.Name).Connections);
        Assert.Equal(new Participant { Id = bob.Name, Name = bob.Name, Connections = 0 }, left.Participant);
        aliceStream.AssertNothingPending();
        await aliceOnC.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task EveryParticipantOnEveryNodeSeesTheSameEventsInTheSameOrder()
    {
        var users = new[] { NewOperator("ann"), NewOperator("ben"), NewOperator("cid") };
        var nodes = new[] { cluster.A, cluster.B, cluster.C };
        var connections = new List<TestConnection>();
        var streams = new List<SessionStream>();
        try
        {
            for (var i = 0; i < 3; i++)
                connections.Add(await nodes[i].ConnectAsync(Json, users[i]));
            var session = await connections[0].Hub.CreateSessionAsync();
            for (var i = 0; i < 3; i++)
            {
                streams.Add(connections[i].Hub.JoinSession(session.Id));
                await streams[i].SnapshotAsync();
            }
            // The joins before the annotations: ann sees two, ben one, cid none.
            for (var i = 0; i < 3; i++)
            {
                for (var j = i + 1; j < 3; j++)
                    await streams[i].ExpectAsync(SessionEventKinds.Joined);
            }

            // Each node's user annotates at once, 20 times.
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async i =>
            {
                for (var n = 0; n < 20; n++)
                    await connections[i].Hub.AnnotateAsync(session.Id, $"{users[i].Name} {n}");
            }));
            var seen = new List<string[]>();
            foreach (var stream in streams)
            {
                var texts = new string[60];
                for (var n = 0; n < 60; n++)
                    texts[n] = (await stream.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text;
                seen.Add(texts);
            }

            Assert.Equal(seen[0], seen[1]);
            Assert.Equal(seen[0], seen[2]);
            foreach (var user in users)
                Assert.Equal(Enumerable.Range(0, 20).Select(n => $"{user.Name} {n}"), seen[0].Where(t => t.StartsWith(user.Name + " ", StringComparison.Ordinal)));
            await connections[0].Hub.EndSessionAsync(session.Id);
        }
        finally
        {
            foreach (var stream in streams)
                await stream.DisposeAsync();
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task ALateJoinersSnapshotAndEventsHaveNoGapAndNoDuplicateWhileOthersAnnotateFromOtherNodes()
    {
        var (ann, cid, watcher) = (NewOperator("ann"), NewOperator("cid"), NewViewer("wes"));
        await using var annOnA = await cluster.A.ConnectAsync(Json, ann);
        await using var cidOnC = await cluster.C.ConnectAsync(Json, cid);
        await using var watcherOnA = await cluster.A.ConnectAsync(Json, watcher);
        var session = await annOnA.Hub.CreateSessionAsync();
        await using var watching = watcherOnA.Hub.JoinSession(session.Id);
        await watching.SnapshotAsync();

        using var stop = new CancellationTokenSource();
        var annotating = Task.WhenAll(new[] { (annOnA, ann), (cidOnC, cid) }.Select(async pair =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested && n < 80)
                await pair.Item1.Hub.AnnotateAsync(session.Id, $"{pair.Item2.Name} {n++}");
        }));
        var joiners = new List<(SessionStream Stream, List<string> Texts, TestConnection Connection)>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var connection = await cluster.B.ConnectAsync(Json, NewViewer("late"));
                var stream = connection.Hub.JoinSession(session.Id);
                var snapshot = await stream.SnapshotAsync();
                joiners.Add((stream, snapshot.Annotations!.Select(a => a.Text).ToList(), connection));
                await Task.Delay(20);
            }
            await stop.CancelAsync();
            await annotating.WaitAsync(Timeouts.Default);
            // The end of what was said: one more annotation that everyone must reach.
            await annOnA.Hub.AnnotateAsync(session.Id, "the end");

            var all = await AnnotationsUntilAsync(watching, "the end");
            foreach (var (stream, texts, _) in joiners)
            {
                texts.AddRange(await AnnotationsUntilAsync(stream, "the end"));
                Assert.Equal(all, texts);
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var (stream, _, connection) in joiners)
            {
                await stream.DisposeAsync();
                await connection.DisposeAsync();
            }
        }
        await annOnA.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task ChangedSensorsEvictAMemberOnAnotherNodeAndTheOthersSeeItLeave()
    {
        var alice = NewOperator("alice");
        var pat = new TestUser(UniqueName("pat"), [Roles.Viewer], ["plant-1/"]);
        await using var aliceOnA = await cluster.A.ConnectAsync(Json, alice);
        await using var patOnB = await cluster.B.ConnectAsync(Json, pat);
        await using var adminOnC = await cluster.C.ConnectAsync(Json);
        var session = await aliceOnA.Hub.CreateSessionAsync([Temperature]);
        await using var aliceStream = aliceOnA.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var patStream = patOnB.Hub.JoinSession(session.Id);
        await patStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);

        await adminOnC.Hub.SetSessionSensorsAsync(session.Id, [Temperature, "plant-2/line-1/pressure"]);

        var error = await Assert.ThrowsAsync<HubException>(() => patStream.Completion.WaitAsync(Timeouts.Default));
        Assert.Contains($"no session '{session.Id}' is known", error.Message, StringComparison.Ordinal);
        patStream.AssertNothingPending();
        Assert.Equal([Temperature, "plant-2/line-1/pressure"], (await aliceStream.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Equal(pat.Name, (await aliceStream.ExpectAsync(SessionEventKinds.Left)).Participant!.Name);
        await using var again = patOnB.Hub.JoinSession(session.Id);
        await Assert.ThrowsAsync<HubException>(() => again.Completion.WaitAsync(Timeouts.Default));
        await aliceOnA.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task EndingOnOneNodeSendsEndedAndCompletesTheStreamsOnEveryNode()
    {
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceOnA = await cluster.A.ConnectAsync(Json, alice);
        await using var bobOnB = await cluster.B.ConnectAsync(Json, bob);
        await using var aliceOnC = await cluster.C.ConnectAsync(Json, alice);
        var session = await aliceOnA.Hub.CreateSessionAsync();
        await using var aliceStream = aliceOnA.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStream = bobOnB.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();

        await aliceOnC.Hub.EndSessionAsync(session.Id);

        foreach (var stream in new[] { aliceStream, bobStream })
        {
            var rest = await stream.RestAsync();
            Assert.Equal(SessionEventKinds.Ended, rest[^1].Kind);
            Assert.DoesNotContain(rest, e => e.Kind == SessionEventKinds.Left);
        }
        Assert.DoesNotContain(await bobOnB.Hub.ListSessionsAsync(), s => s.Id == session.Id);
        await Timeouts.WaitUntilAsync(
            () => RedisSessionCluster.StoreOf(cluster.A).LocalSessionIds.All(id => id != session.Id)
                && RedisSessionCluster.StoreOf(cluster.B).LocalSessionIds.All(id => id != session.Id),
            Timeouts.Default, "the nodes stopped following the ended session");
        Assert.Empty(await RedisSessionCluster.ParticipantsAsync(cluster.C, session.Id));
    }

    [Fact]
    public async Task TheMembersOfAKilledNodeLeaveOnceItsHeartbeatExpires()
    {
        var (alice, bob, carol) = (NewOperator("alice"), NewViewer("bob"), NewViewer("carol"));
        var doomed = await cluster.Nodes.StartNodeAsync();
        await using var aliceOnA = await cluster.A.ConnectAsync(Json, alice);
        await using var carolOnB = await cluster.B.ConnectAsync(Json, carol);
        var bobOnDoomed = await doomed.ConnectAsync(Json, bob);
        var carolOnDoomed = await doomed.ConnectAsync(Json, carol);
        var session = await aliceOnA.Hub.CreateSessionAsync();
        await using var aliceStream = aliceOnA.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        var bobStream = bobOnDoomed.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        await using var carolStream = carolOnB.Hub.JoinSession(session.Id);
        await carolStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        var carolStream2 = carolOnDoomed.Hub.JoinSession(session.Id);
        Assert.Equal(2, (await carolStream2.SnapshotAsync()).Participants!.Single(p => p.Name == carol.Name).Connections);

        await cluster.Nodes.KillAsync(doomed);

        // Bob had no stream elsewhere: he leaves. Carol keeps her stream on B: she stays, with one.
        var left = await aliceStream.ExpectAsync(SessionEventKinds.Left);
        Assert.Equal(new Participant { Id = bob.Name, Name = bob.Name, Connections = 0 }, left.Participant);
        await Timeouts.WaitUntilAsync(
            async () => (await RedisSessionCluster.ParticipantsAsync(cluster.A, session.Id)).Single(p => p.Name == carol.Name).Connections == 1,
            Timeouts.Default, "carol's stream on the dead node left");
        await aliceOnA.Hub.AnnotateAsync(session.Id, "after the death");
        await aliceStream.ExpectAsync(SessionEventKinds.Annotated);
        aliceStream.AssertNothingPending();
        await aliceOnA.Hub.EndSessionAsync(session.Id);
        await bobStream.DisposeAsync();
        await carolStream2.DisposeAsync();
        await bobOnDoomed.DisposeAsync();
        await carolOnDoomed.DisposeAsync();
    }

    [Fact]
    public async Task ANodeThatStopsCompletesItsStreamsWithoutEndedAndItsUsersLeaveAtOnce()
    {
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        var stopping = await cluster.Nodes.StartNodeAsync();
        await using var aliceOnA = await cluster.A.ConnectAsync(Json, alice);
        var bobOnStopping = await stopping.ConnectAsync(Json, bob);
        var session = await aliceOnA.Hub.CreateSessionAsync();
        await using var aliceStream = aliceOnA.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStream = bobOnStopping.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);

        var stopped = stopping.DisposeAsync().AsTask();
        var rest = await bobStream.RestAsync();
        var left = await aliceStream.ExpectAsync(SessionEventKinds.Left);
        await stopped.WaitAsync(Timeouts.Default);

        Assert.DoesNotContain(rest, e => e.Kind == SessionEventKinds.Ended);
        Assert.Equal(bob.Name, left.Participant!.Name);
        await bobOnStopping.DisposeAsync();
        await aliceOnA.Hub.EndSessionAsync(session.Id);
    }

    [Fact]
    public async Task TheLimitsHoldAcrossNodes()
    {
        // The cluster's limits are the defaults: 10 open sessions per owner, 100 participants; the owner creates on three nodes.
        var olga = NewOperator("olga");
        var connections = new[] { await cluster.A.ConnectAsync(Json, olga), await cluster.B.ConnectAsync(Json, olga), await cluster.C.ConnectAsync(Json, olga) };
        try
        {
            var created = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
            {
                try
                {
                    return (await connections[i % 3].Hub.CreateSessionAsync()).Id;
                }
                catch (HubException e) when (SensorHubErrors.CodeOf(e.Message) == SensorHubErrors.TooManySessions)
                {
                    return null;
                }
            }));
            Assert.Equal(10, created.Count(id => id is not null));
            foreach (var id in created.OfType<string>())
                await connections[0].Hub.EndSessionAsync(id);
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }

    private static async Task<List<string>> AnnotationsUntilAsync(SessionStream stream, string last)
    {
        var texts = new List<string>();
        while (true)
        {
            var sessionEvent = await stream.NextAsync();
            if (sessionEvent.Kind != SessionEventKinds.Annotated)
                continue;
            texts.Add(sessionEvent.Annotation!.Text);
            if (sessionEvent.Annotation.Text == last)
                return texts;
        }
    }
}
