using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>The engine's sensor caps: per publisher, in all, the server's own sensors, and exact under racing publishers.</summary>
public sealed class SensorCapTests
{
    private static readonly DateTime s_now = DateTime.UtcNow;

    [Fact]
    public async Task APublisherAtItsCapIsRefusedNewSensorsAndKeepsPublishingToItsOwn()
    {
        using var harness = new EngineHarness(new FeedOptions { MaxSensorsPerPublisher = 2 });

        var first = await PublishAsync(harness, "a/1", "alice");
        var second = await PublishAsync(harness, "a/2", "alice");
        var third = await PublishAsync(harness, "a/3", "alice");
        var again = await PublishAsync(harness, "a/1", "alice");
        var another = await PublishAsync(harness, "a/3", "bob");

        Assert.Equal(
            [PublishStatus.Registered, PublishStatus.Registered, PublishStatus.TooManySensorsForPublisher, PublishStatus.Published, PublishStatus.Registered],
            new[] { first, second, third, again, another }.Select(o => o.Status));
        Assert.Null(third.Reading);
        Assert.Equal(first.Reading!.Sequence + 1, again.Reading!.Sequence);
        Assert.Equal((2, 1), (harness.Registry.CountOf("alice"), harness.Registry.CountOf("bob")));
        Assert.Equal(3, harness.Engine.GetCounters().Sensors);
    }

    [Fact]
    public async Task AnyPublisherMayPublishToASensorAnotherRegisteredWithoutItCounting()
    {
        using var harness = new EngineHarness(new FeedOptions { MaxSensorsPerPublisher = 1 });
        await PublishAsync(harness, "shared", "alice");

        var bobs = await PublishAsync(harness, "shared", "bob");
        var bobsOwn = await PublishAsync(harness, "bobs", "bob");

        Assert.Equal((PublishStatus.Published, PublishStatus.Registered), (bobs.Status, bobsOwn.Status));
        Assert.Equal((1, 1), (harness.Registry.CountOf("alice"), harness.Registry.CountOf("bob")));
    }

    [Fact]
    public async Task TheTotalCapCountsEverySensorTheServersOwnIncludedButNeverRefusesTheServersConfiguredOnes()
    {
        using var harness = new EngineHarness(new FeedOptions { MaxSensors = 3 });
        await harness.Engine.RegisterAsync(new SensorDescriptor("own/1", "own", "simulated", null), CancellationToken.None);
        await PublishAsync(harness, "d/1", "alice");
        var serversNew = await harness.Engine.PublishAsync("s/1", 1, s_now, SensorRegistration.ByServer, CancellationToken.None);

        var alice = await PublishAsync(harness, "d/2", "alice");
        var bob = await PublishAsync(harness, "d/3", "bob");
        var server = await harness.Engine.PublishAsync("s/2", 1, s_now, SensorRegistration.ByServer, CancellationToken.None);
        await harness.Engine.RegisterAsync(new SensorDescriptor("own/2", "own", "simulated", null), CancellationToken.None);
        var known = await PublishAsync(harness, "d/1", "bob");

        Assert.Equal(PublishStatus.Registered, serversNew.Status);
        Assert.Equal(
            [PublishStatus.TooManySensors, PublishStatus.TooManySensors, PublishStatus.TooManySensors, PublishStatus.Published],
            new[] { alice, bob, server, known }.Select(o => o.Status));
        // The configured one is in, over the cap: devices find no room until sensors go.
        Assert.NotNull(await harness.Engine.FindSensorAsync("own/2", CancellationToken.None));
        Assert.Equal(4, harness.Engine.GetCounters().Sensors);
        Assert.Equal(1, harness.Registry.CountOf("alice"));
    }

    [Fact]
    public async Task WithoutRegistrationAnUnknownSensorIsReportedAndNothingIsAdded()
    {
        using var harness = new EngineHarness();

        var outcome = await harness.Engine.PublishAsync("nobody/knows", 1, s_now, SensorRegistration.None, CancellationToken.None);

        Assert.Equal(new PublishOutcome(PublishStatus.UnknownSensor, null), outcome);
        Assert.Null(await harness.Engine.FindSensorAsync("nobody/knows", CancellationToken.None));
        Assert.Equal(0, harness.Engine.GetCounters().Sensors);
    }

    [Fact]
    public async Task RegisteringAsTheServerTakesADeviceSensorFromItsPublisher()
    {
        using var harness = new EngineHarness(new FeedOptions { MaxSensorsPerPublisher = 1 });
        await PublishAsync(harness, "d/1", "alice");

        await harness.Engine.RegisterAsync(new SensorDescriptor("d/1", "Line 1", "temperature", "°C"), CancellationToken.None);
        var alicesNext = await PublishAsync(harness, "d/2", "alice");

        // Alice's one place came back with the sensor the server took: her next sensor fits.
        Assert.Equal(PublishStatus.Registered, alicesNext.Status);
        Assert.Equal(1, harness.Registry.CountOf("alice"));
        var adopted = await harness.Engine.FindSensorAsync("d/1", CancellationToken.None);
        Assert.Equal(("Line 1", "temperature", "°C"), (adopted!.Name, adopted.Kind, adopted.Unit));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    public async Task APublishersCapIsExactWhilePublishersRaceForTheLastPlaces(int cap)
    {
        const int threads = 8, each = 4;

        // Many short races, each on a fresh engine, so that the moment the cap is reached is raced for many times.
        var rounds = await RaceAsync(threads, each, () => new EngineHarness(new FeedOptions { MaxSensorsPerPublisher = cap }),
            (harness, thread, i) => PublishAsync(harness, $"race/{thread}/{i}", "alice"));

        Assert.All(rounds, round =>
        {
            Assert.Equal(cap, round.Outcomes.Count(o => o.Status == PublishStatus.Registered));
            Assert.Equal(threads * each - cap, round.Outcomes.Count(o => o.Status == PublishStatus.TooManySensorsForPublisher));
            Assert.Equal((cap, cap), (round.Harness.Registry.CountOf("alice"), round.Harness.Engine.GetCounters().Sensors));
        });
    }

    [Fact]
    public async Task TheTotalCapIsExactWhilePublishersRaceForTheLastPlaces()
    {
        const int cap = 11, threads = 8, each = 4;

        // Every thread is a publisher of its own, so only the total cap can stop them.
        var rounds = await RaceAsync(threads, each, () => new EngineHarness(new FeedOptions { MaxSensors = cap }),
            (harness, thread, i) => PublishAsync(harness, $"race/{thread}/{i}", $"p{thread}"));

        Assert.All(rounds, round =>
        {
            Assert.Equal(cap, round.Outcomes.Count(o => o.Status == PublishStatus.Registered));
            Assert.Equal(threads * each - cap, round.Outcomes.Count(o => o.Status == PublishStatus.TooManySensors));
            Assert.Equal(cap, round.Harness.Engine.GetCounters().Sensors);
            Assert.Equal(cap, Enumerable.Range(0, threads).Sum(t => round.Harness.Registry.CountOf($"p{t}")));
        });
        Assert.Equal(cap, (await rounds[0].Harness.Engine.ListSensorsAsync("", null, 1_000, null, CancellationToken.None)).Sensors.Length);
    }

    [Fact]
    public async Task PublishersRacingToRegisterOneSensorRegisterItOnceAndAllPublish()
    {
        var rounds = await RaceAsync(8, 3, () => new EngineHarness(new FeedOptions { MaxSensorsPerPublisher = 1 }),
            (harness, thread, _) => PublishAsync(harness, "one", $"p{thread}"));

        Assert.All(rounds, round =>
        {
            Assert.Equal(1, round.Outcomes.Count(o => o.Status == PublishStatus.Registered));
            Assert.All(round.Outcomes, o => Assert.True(o.IsPublished));
            AssertConsecutive(round.Outcomes.Select(o => o.Reading!.Sequence));
        });
    }

    internal static ValueTask<PublishOutcome> PublishAsync(EngineHarness harness, string sensorId, string publisherId) =>
        harness.Engine.PublishAsync(sensorId, 1, s_now, SensorRegistration.ByPublisher(publisherId), CancellationToken.None);

    /// <summary>
    /// <see cref="Rounds"/> races: in each, <paramref name="threads"/> threads, released together on a fresh engine,
    /// publish <paramref name="each"/> times. Each round keeps its engine (disposed, its counts still readable) and outcomes.
    /// </summary>
    private static async Task<List<Round>> RaceAsync(
        int threads, int each, Func<EngineHarness> engine, Func<EngineHarness, int, int, ValueTask<PublishOutcome>> publish)
    {
        var rounds = Enumerable.Range(0, Rounds).Select(_ => new Round(engine())).ToList();
        using var start = new Barrier(threads);
        var runs = Enumerable.Range(0, threads).Select(thread => Task.Factory.StartNew(
            () =>
            {
                foreach (var round in rounds)
                {
                    start.SignalAndWait();
                    for (var i = 0; i < each; i++)
                    {
                        var outcome = publish(round.Harness, thread, i).AsTask().GetAwaiter().GetResult();
                        lock (round.Outcomes)
                            round.Outcomes.Add(outcome);
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        try
        {
            await Task.WhenAll(runs).WaitAsync(Timeouts.Default);
        }
        finally
        {
            foreach (var round in rounds)
                round.Harness.Dispose();
        }
        return rounds;
    }

    private const int Rounds = 200;

    private sealed record Round(EngineHarness Harness)
    {
        public List<PublishOutcome> Outcomes { get; } = [];
    }

    private static void AssertConsecutive(IEnumerable<long> sequences)
    {
        var sorted = sequences.Order().ToList();
        for (var i = 1; i < sorted.Count; i++)
            Assert.Equal(sorted[i - 1] + 1, sorted[i]);
    }
}
