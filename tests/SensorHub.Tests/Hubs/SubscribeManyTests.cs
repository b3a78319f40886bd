using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Redis.Feeds;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The <c>SubscribeMany</c> contract over every engine target: the readings of every sensor that matches a pattern,
/// those that appear later included, in order per sensor, published on node A and read on node B.
/// </summary>
public sealed class SubscribeManyTests(EngineFixture engines) : IClassFixture<EngineFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ReadingsOfMatchingSensorsArriveInOrderAndOthersDoNot(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var plant = Sensors.NewId("many");
        string[] matching = [$"{plant}/line-1/temperature", $"{plant}/line-2/temperature"];
        string[] other = [$"{plant}/line-1/humidity", $"{plant}/line-1/temperature/raw", $"{plant}x/line-1/temperature"];
        foreach (var id in matching.Concat(other))
            await publisher.PublishAsync(id, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/+/temperature", null, cts.Token);
        await WaitForSubscribersAsync(app, matching);
        var published = new Dictionary<string, List<Reading>>();
        foreach (var id in matching.Concat(other))
            published[id] = await publisher.PublishAsync(id, 50, firstValue: 100);
        // One more reading after the others: once it arrives, anything of the other sensors would have too.
        var last = await publisher.PublishAsync(matching[0], -1, DateTime.UtcNow, CancellationToken.None);
        await consumer.WaitForAsync(readings => readings.Any(r => r.SensorId == matching[0] && r.Sequence == last.Sequence), "the last reading");

        var received = consumer.Readings();
        Assert.All(received, r => Assert.Contains(r.SensorId, matching));
        Assert.Equal([.. published[matching[0]], last], consumer.Of(matching[0]));
        Assert.Equal(published[matching[1]], consumer.Of(matching[1]));
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ASensorThatAppearsLaterJoinsFromItsFirstReading(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var plant = Sensors.NewId("many");
        var existing = $"{plant}/a";
        await publisher.PublishAsync(existing, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/#", null, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(app, existing);
        // Registered while the stream runs, published to at once: every reading from its first on arrives, whenever
        // the stream hears of it.
        var appeared = $"{plant}/b/c";
        var published = await publisher.PublishAsync(appeared, 200);
        await consumer.WaitForAsync(appeared, 200);

        Assert.Equal(published, consumer.Of(appeared));
        Assert.Empty(consumer.Of(existing));
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task FromSequencesResumesNamedSensorsWithoutGapOrDuplicateWhileAPublisherRuns(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var plant = Sensors.NewId("many");
        var (resumed, live) = ($"{plant}/resumed", $"{plant}/live");
        var history = await publisher.PublishAsync(resumed, 1_000);
        await publisher.PublishAsync(live, 10);
        var from = history[300].Sequence;
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // The publisher runs while the replay is read and sent.
        var running = Task.Run(async () =>
        {
            var readings = new List<Reading>();
            for (var i = 0; i < 500; i++)
            {
                readings.Add(await nodes.C.Engine.PublishAsync(resumed, 10_000 + i, DateTime.UtcNow, CancellationToken.None));
                if (i % 50 == 0)
                    await Task.Yield();
            }
            return readings;
        });
        await using var consumer = SubscribeManyConsumer.Start(
            connection.Hub, $"{plant}/#", new SubscribeManyOptions { FromSequences = new Dictionary<string, long> { [resumed] = from } }, cts.Token);
        var after = await running;
        await consumer.WaitForAsync(readings => readings.Any(r => r.Sequence == after[^1].Sequence && r.SensorId == resumed), "the publisher's last reading");

        var received = consumer.Of(resumed);
        Assert.Equal(from, received[0].Sequence);
        Sensors.AssertConsecutive(received);
        Assert.Equal(after[^1], received[^1]);
        // The sensor not named starts live: nothing of what it had before the stream.
        Assert.Empty(consumer.Of(live));
    }

    public static TheoryData<string, string> MalformedPatterns => new()
    {
        { "plant/#/temperature", "has '#' before its last level" },
        { "plant/line+/temperature", "has a wildcard inside the level 'line+'" },
        { "plant/#x", "has a wildcard inside the level '#x'" },
        { "/plant/#", "starts with '/'" },
        { "", "is empty" },
        { new string('a', SensorPattern.MaxLength + 1), $"at most {SensorPattern.MaxLength} are allowed" },
        { "plant/temp erature", "contains U+0020" },
        { "plant/\nline", "contains U+000A" },
        { new string('+', 100_000), "is 100000 characters long" },
    };

    [Theory]
    [MemberData(nameof(MalformedPatterns))]
    public async Task AMalformedPatternIsRefusedByNameAndTheConnectionStillWorks(string pattern, string problem)
    {
        var nodes = await engines.NodesAsync(EngineTarget.InMemory);
        await using var connection = await nodes.B.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var refused = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in connection.Hub.StreamAsync<Reading[]>(SensorHubMethods.SubscribeMany, pattern, null, cts.Token))
                Assert.Fail("A malformed pattern streamed.");
        });

        Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(refused.Message));
        // Named when it is short and printable; a long pattern or one with a control character is not sent back.
        var named = pattern.Length <= SensorPattern.MaxLength && pattern.All(c => c is >= ' ' and <= '~');
        Assert.Equal(named, refused.Message.Contains($"pattern '{pattern}' ", StringComparison.Ordinal));
        Assert.True(refused.Message.Length < 300, refused.Message);
        Assert.Contains(problem, refused.Message, StringComparison.Ordinal);
        // A sensor that appears once the stream is open arrives from its first reading.
        var plant = Sensors.NewId("many");
        await nodes.A.Engine.PublishAsync($"{plant}/before", 1);
        await using var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/#", null, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(nodes.B, $"{plant}/before");
        var reading = await nodes.A.Engine.PublishAsync($"{plant}/after", 2, DateTime.UtcNow, CancellationToken.None);
        await consumer.WaitForAsync(readings => readings.Contains(reading), "a reading after the refusal");
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task CancellingReleasesEverySubscription(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var (plant, ids) = await RegisterAsync(publisher, "a", "b", "c");
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/+", null, cts.Token);
        await WaitForSubscribersAsync(app, ids);
        await consumer.DisposeAsync();

        await Timeouts.WaitUntilAsync(
            () => ids.All(id => FeedProbe.SubscribersOf(app, id) == 0),
            Timeouts.Default,
            "every sensor's subscription released");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.Completion);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task MaxRatePacesEachSensorAloneAndSendsItsNewestAtItsMoment(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var (plant, ids) = await RegisterAsync(publisher, "a", "b");
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        const double Rate = 2;

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await using var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/+", new SubscribeManyOptions { MaxRate = Rate }, cts.Token);
        await WaitForSubscribersAsync(app, ids);
        var published = new Dictionary<string, List<Reading>>();
        foreach (var id in ids)
            published[id] = await publisher.PublishAsync(id, 200);
        // Each sensor's newest comes at its own slot, whatever the other does.
        await consumer.WaitForAsync(
            readings => ids.All(id => readings.Any(r => r.SensorId == id && r.Sequence == published[id][^1].Sequence)),
            "each sensor's newest reading");
        var elapsed = watch.Elapsed;

        foreach (var id in ids)
        {
            var received = consumer.Of(id);
            // At most one reading per slot of 1/Rate s since the stream began, and the first at once.
            Assert.InRange(received.Count, 1, 1 + (int)Math.Ceiling(elapsed.TotalSeconds * Rate));
            Assert.True(received.Count < 200, $"{received.Count} readings of {id}: not paced.");
            Assert.Equal(received.OrderBy(r => r.Sequence).Select(r => r.Sequence).Distinct(), received.Select(r => r.Sequence));
            Assert.Equal(published[id][^1], received[^1]);
        }
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ATokensSensorPrefixesFilterWhatMatches(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var plant = Sensors.NewId("many");
        var ready = $"{plant}/mine/ready";
        await publisher.PublishAsync(ready, 1);
        await publisher.PublishAsync($"{plant}/theirs/ready", 1);
        var user = new TestUser("prefixed", [SensorHub.Server.Identity.Roles.Viewer], [$"{plant}/mine/"]);
        await using var connection = await app.ConnectAsync(protocol, user);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        await using var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/#", null, cts.Token);
        await FeedProbe.WaitForSubscribersAsync(app, ready);
        // Sensors that appear while the stream runs are filtered the same way.
        var theirs = await publisher.PublishAsync($"{plant}/theirs/new", 20);
        var mine = await publisher.PublishAsync($"{plant}/mine/new", 20);
        await consumer.WaitForAsync($"{plant}/mine/new", 20);

        Assert.Equal(mine, consumer.Readings());
        Assert.Equal(1, FeedProbe.SubscribersOf(app, $"{plant}/mine/new"));
        Assert.Equal(0, FeedProbe.SubscribersOf(app, $"{plant}/theirs/new"));
        Assert.NotEmpty(theirs);
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task DroppingTheConnectionEndsTheStreamAndReleasesEverySubscription(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var (publisher, app) = (nodes.A.Engine, nodes.B);
        var (plant, ids) = await RegisterAsync(publisher, "a", "b");
        var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var consumer = SubscribeManyConsumer.Start(connection.Hub, $"{plant}/#", null, cts.Token);
        await WaitForSubscribersAsync(app, ids);
        await connection.DisposeAsync();

        await Timeouts.WaitUntilAsync(() => ids.All(id => FeedProbe.SubscribersOf(app, id) == 0), Timeouts.Default, "every subscription released");
        await consumer.DisposeAsync();
        Assert.True(consumer.Completion.IsCompleted);
    }

    /// <summary>Sensors of the test's own under a new prefix, <c>{plant}/{leaf}</c>, each registered with one reading.</summary>
    private static async Task<(string Plant, string[] Ids)> RegisterAsync(IFeedEngine publisher, params string[] leaves)
    {
        var plant = Sensors.NewId("many");
        var ids = leaves.Select(leaf => $"{plant}/{leaf}").ToArray();
        foreach (var id in ids)
            await publisher.PublishAsync(id, 1);
        return (plant, ids);
    }

    /// <summary>Waits until the stream has subscribed to each sensor (it starts them live: a reading before that is not its).</summary>
    private static async Task WaitForSubscribersAsync(SensorHubApplication app, IEnumerable<string> ids)
    {
        foreach (var id in ids)
            await FeedProbe.WaitForSubscribersAsync(app, id);
    }
}
