using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// Presence over the hub: joining is subscribing to the session's stream and leaving is that stream ending, by a
/// cancel, a closed or dropped connection, or the session's end. Presence is by user name. On every engine: the
/// session is made on A, the others join on B (and C).
/// </summary>
public sealed class SessionPresenceTests(EngineFixture engines) : IClassFixture<EngineFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task TwoUsersSeeEachOtherAndTheOneWhoStaysSeesTheOtherLeaveWhenItCancels(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        var session = await aliceConnection.Hub.CreateSessionAsync();
        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        var aliceSnapshot = await aliceStream.SnapshotAsync();

        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        var bobSnapshot = await bobStream.SnapshotAsync();
        var joined = await aliceStream.ExpectAsync(SessionEventKinds.Joined);
        await bobStream.CancelAsync();
        var left = await aliceStream.ExpectAsync(SessionEventKinds.Left);

        AssertSame(session, aliceSnapshot.Session);
        Assert.Equal([new Participant { Id = alice.Name, Name = alice.Name, Connections = 1 }], aliceSnapshot.Participants!);
        Assert.Equal(
            new[] { alice.Name, bob.Name }.Order(StringComparer.Ordinal),
            bobSnapshot.Participants!.Select(p => p.Name));
        Assert.Equal(new Participant { Id = bob.Name, Name = bob.Name, Connections = 1 }, joined.Participant);
        Assert.Equal(new Participant { Id = bob.Name, Name = bob.Name, Connections = 0 }, left.Participant);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bobStream.Completion.WaitAsync(Timeouts.Default));
        Assert.Equal(HubConnectionState.Connected, bobConnection.Hub.State);
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task AUserWhoseConnectionDropsLeavesWithinASecond(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        var session = await aliceConnection.Hub.CreateSessionAsync();
        await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
        await aliceStream.SnapshotAsync();
        await using var bobStream = bobConnection.Hub.JoinSession(session.Id);
        await bobStream.SnapshotAsync();
        await aliceStream.ExpectAsync(SessionEventKinds.Joined);

        var clock = Stopwatch.StartNew();
        bobConnection.Drop();
        var left = await aliceStream.ExpectAsync(SessionEventKinds.Left);
        clock.Stop();

        Assert.Equal(bob.Name, left.Participant!.Name);
        Assert.True(clock.Elapsed < Timeouts.GeneratorEnd, $"left came {clock.Elapsed.TotalMilliseconds:0} ms after the drop");
        Assert.Equal([alice.Name], (await nodes.C.ParticipantsAsync(session.Id)).Select(p => p.Name));
        await aliceConnection.Hub.EndSessionAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task TwoConnectionsOfOneUserAreOneParticipantWhoLeavesWithTheLast(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobTab1 = await nodes.B.ConnectAsync(protocol, bob);
        var bobTab2 = await nodes.C.ConnectAsync(protocol, bob);
        try
        {
            var session = await aliceConnection.Hub.CreateSessionAsync();
            await using var aliceStream = aliceConnection.Hub.JoinSession(session.Id);
            await aliceStream.SnapshotAsync();
            await using var bobStream1 = bobTab1.Hub.JoinSession(session.Id);
            await bobStream1.SnapshotAsync();
            await aliceStream.ExpectAsync(SessionEventKinds.Joined);

            await using var bobStream2 = bobTab2.Hub.JoinSession(session.Id);
            var secondSnapshot = await bobStream2.SnapshotAsync();
            await bobStream1.CancelAsync();
            await nodes.A.WaitForPresenceAsync(session.Id, bob.Name, 1);
            // Something after the first stream's end, so that a 'left' for it would have come before this.
            await aliceConnection.Hub.AnnotateAsync(session.Id, "bob is still here");
            await aliceStream.ExpectAsync(SessionEventKinds.Annotated);
            await bobTab2.DisposeAsync();
            var left = await aliceStream.ExpectAsync(SessionEventKinds.Left);

            Assert.Equal(
                new[] { new Participant { Id = alice.Name, Name = alice.Name, Connections = 1 }, new Participant { Id = bob.Name, Name = bob.Name, Connections = 2 } }
                    .OrderBy(p => p.Name, StringComparer.Ordinal),
                secondSnapshot.Participants!);
            Assert.Equal(new Participant { Id = bob.Name, Name = bob.Name, Connections = 0 }, left.Participant);
            aliceStream.AssertNothingPending();
            await aliceConnection.Hub.EndSessionAsync(session.Id);
        }
        finally
        {
            await bobTab2.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task EndingASessionCompletesEveryStreamAndReleasesItsState(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewViewer("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.B.ConnectAsync(protocol, bob);
        var baseline = nodes.All.Select(node => node.Activity.ActiveStreams).ToArray();
        var session = await aliceConnection.Hub.CreateSessionAsync();
        var streams = new[]
        {
            aliceConnection.Hub.JoinSession(session.Id),
            bobConnection.Hub.JoinSession(session.Id),
            bobConnection.Hub.JoinSession(session.Id),
        };
        try
        {
            foreach (var stream in streams)
                await stream.SnapshotAsync();

            await aliceConnection.Hub.EndSessionAsync(session.Id);

            foreach (var stream in streams)
            {
                var rest = await stream.RestAsync();
                Assert.Equal(SessionEventKinds.Ended, rest[^1].Kind);
                Assert.DoesNotContain(rest, e => e.Kind == SessionEventKinds.Left);
            }
            Assert.Null(await nodes.C.FindSessionAsync(session.Id));
            Assert.Empty(await nodes.C.ParticipantsAsync(session.Id));
            Assert.DoesNotContain(await bobConnection.Hub.ListSessionsAsync(), s => s.Id == session.Id);
            await Timeouts.WaitUntilAsync(
                () => nodes.All.Select(node => node.Activity.ActiveStreams).SequenceEqual(baseline), Timeouts.GeneratorEnd, "the session streams' generators ended");
            await using var late = bobConnection.Hub.JoinSession(session.Id);
            var error = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => late.Completion);
            Assert.Contains($"sessionId: no session '{session.Id}' is known.", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var stream in streams)
                await stream.DisposeAsync();
        }
    }
}
