using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionCalls;

namespace SensorHub.Tests.Sessions;

/// <summary>Servers whose annotation rate is high enough to annotate as fast as a client can, on every engine target.</summary>
public sealed class BusySessionsFixture() : SessionEngines(new Dictionary<string, string?>
{
    ["SensorHub:Sessions:AnnotationRateLimit"] = "100000",
    ["SensorHub:Hub:CreationRateLimit"] = "1000000",
    ["SensorHub:Sessions:RecentAnnotations"] = "20",
});

/// <summary>
/// Joins while others annotate: each joiner's snapshot and the events after it meet with no gap and no duplicate. On
/// Redis across nodes the annotators are on A and C and the joiners on B.
/// </summary>
public sealed class SessionJoinRaceTests(BusySessionsFixture fixture) : IClassFixture<BusySessionsFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task JoinsWhileOthersAnnotateSeeNoGapAndNoDuplicate(EngineTarget engine, Protocol protocol)
    {
        var nodes = await fixture.NodesAsync(engine);
        var (alice, bob) = (NewOperator("alice"), NewOperator("bob"));
        await using var aliceConnection = await nodes.A.ConnectAsync(protocol, alice);
        await using var bobConnection = await nodes.C.ConnectAsync(protocol, bob);
        var session = await aliceConnection.Hub.CreateSessionAsync();
        await using var observer = aliceConnection.Hub.JoinSession(session.Id);
        await observer.SnapshotAsync();
        var made = 0;
        using var stop = new CancellationTokenSource();

        // Two annotators, one after another each, for as long as the joins take.
        var annotating = Task.WhenAll(Annotate(aliceConnection), Annotate(bobConnection));
        var joiners = new List<(TestConnection Connection, SessionStream Stream, SessionEvent Snapshot)>();
        try
        {
            await Timeouts.WaitUntilAsync(() => Volatile.Read(ref made) >= 30, Timeouts.Default, "annotations began");
            for (var j = 0; j < 8; j++)
            {
                var connection = await nodes.B.ConnectAsync(protocol, NewViewer($"joiner{j}"));
                var stream = connection.Hub.JoinSession(session.Id);
                joiners.Add((connection, stream, await stream.SnapshotAsync()));
            }
            await stop.CancelAsync();
            await annotating.WaitAsync(Timeouts.Default);
            await aliceConnection.Hub.EndSessionAsync(session.Id);

            var all = AnnotationIds(await observer.RestAsync());
            Assert.Equal(made, all.Count);
            foreach (var (_, stream, snapshot) in joiners)
            {
                var seen = snapshot.Annotations!.Select(a => a.Id).Concat(AnnotationIds(await stream.RestAsync())).ToList();
                Assert.True(seen.Count >= 20, $"a joiner saw only {seen.Count} annotations");
                Assert.Equal(all.Skip(all.Count - seen.Count), seen);
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var (connection, stream, _) in joiners)
            {
                await stream.DisposeAsync();
                await connection.DisposeAsync();
            }
        }

        async Task Annotate(TestConnection connection)
        {
            while (!stop.IsCancellationRequested)
            {
                await connection.Hub.AnnotateAsync(session.Id, $"note {Volatile.Read(ref made)}");
                Interlocked.Increment(ref made);
            }
        }
    }

    private static List<string> AnnotationIds(IEnumerable<SessionEvent> events) =>
        events.Where(e => e.Kind == SessionEventKinds.Annotated).Select(e => e.Annotation!.Id).ToList();
}
