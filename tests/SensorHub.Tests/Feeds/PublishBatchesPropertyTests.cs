using System.Globalization;
using System.Threading.RateLimiting;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// Property-based tests (CsCheck) of <see cref="ReadingIngest.PublishBatchesAsync"/> against <see cref="ReadingIngest.PublishAsync"/>
/// as its model: random batches (null, empty, over the cap) of random readings (good, null, malformed, outside the
/// publisher's prefixes, for new sensors), under random reading and new-sensor budgets, sensor caps and list sizes.
/// Publishing the batches must do what publishing their readings one by one does (the same readings kept, the same
/// rejections at the same positions, counted alike), except where the batch contract says otherwise: a null batch is
/// one rejected item with its own reason, and a batch over <see cref="FeedOptions.MaxPublishBatchSize"/> is rejected
/// whole, unread, at its first position, its readings counted as rejected.
/// </summary>
/// <remarks><c>SENSORHUB_PROPERTY_ITERATIONS</c> sets the number of cases (default 300); <c>CsCheck_Seed</c> replays a printed seed.</remarks>
public sealed class PublishBatchesPropertyTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SENSORHUB_PROPERTY_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : 300;

    private static readonly DateTimeOffset s_now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Gen<Item> GenItem = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 99], (sensor, value) => new Item(ItemKind.Good, sensor, value))),
        (1, Gen.Const(new Item(ItemKind.Null, 0, 0))),
        (1, Gen.Const(new Item(ItemKind.Malformed, 0, 0))),
        (1, Gen.Const(new Item(ItemKind.Forbidden, 0, 0))));

    private static readonly Gen<Item[]?> GenBatch = Gen.Frequency(
        (1, Gen.Const((Item[]?)null)),
        (8, GenItem.Array[0, 7].Select(items => (Item[]?)items)));

    private static readonly Gen<Scenario> GenScenario = Gen.Select(
        GenBatch.Array[0, 12], Gen.Int[1, 6], Gen.Int[1, 30], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[0, 6],
        (batches, maxBatch, readingPermits, newSensorPermits, maxPerPublisher, maxReported) =>
            new Scenario(batches, maxBatch, readingPermits, newSensorPermits, maxPerPublisher, maxReported));

    [Fact]
    public Task PublishingBatchesIsPublishingTheirReadingsOneByOneAsTheContractSays() =>
        GenScenario.SampleAsync(RunAsync, iter: Iterations, print: s => s.ToString());

    private static async Task RunAsync(Scenario scenario)
    {
        // The model: Publish over every reading of the batches within the cap, a null batch sent as a null reading.
        using var model = new Side(scenario, maxReported: 10_000);
        var sent = new List<ReadingInput?>();
        var globalPositionOf = new List<long>();
        var fromNullBatch = new HashSet<long>();
        var oversized = new List<(long Index, int Length)>();
        long position = 0;
        foreach (var batch in scenario.Batches)
        {
            if (batch is null)
            {
                fromNullBatch.Add(position);
                globalPositionOf.Add(position++);
                sent.Add(null);
            }
            else if (batch.Length > scenario.MaxBatch)
            {
                oversized.Add((position, batch.Length));
                position += batch.Length;
            }
            else
            {
                foreach (var item in batch)
                {
                    globalPositionOf.Add(position++);
                    sent.Add(item.ToInput());
                }
            }
        }
        var modelResult = await model.Ingest.PublishAsync(Stream(sent), model.Publisher, CancellationToken.None);
        var expected = modelResult.Rejections
            .Select(r => (
                Index: globalPositionOf[(int)r.Index],
                r.SensorId,
                r.Code,
                Reason: fromNullBatch.Contains(globalPositionOf[(int)r.Index]) ? "the batch is null" : r.Reason))
            .Concat(oversized.Select(o => (
                o.Index,
                SensorId: (string?)null,
                Code: SensorHubErrors.InvalidArgument,
                Reason: $"the batch holds {o.Length} readings; at most {scenario.MaxBatch} are allowed in one batch")))
            .OrderBy(r => r.Index)
            .Take(scenario.MaxReported)
            .ToList();

        using var batches = new Side(scenario, scenario.MaxReported);
        var result = await batches.Ingest.PublishBatchesAsync(
            Stream(scenario.Batches.Select(b => b?.Select(i => i.ToInput()).ToArray())), batches.Publisher, CancellationToken.None);

        Assert.Equal(modelResult.Accepted, result.Accepted);
        Assert.Equal(modelResult.Rejected + oversized.Sum(o => o.Length), result.Rejected);
        Assert.Equal(expected, result.Rejections.Select(r => (r.Index, r.SensorId, r.Code, r.Reason)));
        for (var sensor = 0; sensor < Item.Sensors; sensor++)
        {
            var id = Item.SensorIdOf(sensor);
            Assert.Equal(
                (await model.Harness.History.ReadAsync(id, 0, 1_000, CancellationToken.None)).Select(r => (r.Value, r.Sequence)),
                (await batches.Harness.History.ReadAsync(id, 0, 1_000, CancellationToken.None)).Select(r => (r.Value, r.Sequence)));
        }
        // Every rejection is counted by its code once; an oversized batch is one refusal.
        var modelCounts = model.Harness.Refusals.Snapshot();
        var counts = batches.Harness.Refusals.Snapshot();
        foreach (var (code, count) in modelCounts)
            Assert.Equal(count + (code == SensorHubErrors.InvalidArgument ? oversized.Count : 0), counts[code]);
    }

    private static async IAsyncEnumerable<T> Stream<T>(IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }

    private enum ItemKind
    {
        Good,
        Null,
        Malformed,
        Forbidden,
    }

    /// <summary>One reading as generated: for sensor <c>p/Sensor</c>, null, malformed, or outside the publisher's <c>p/</c> prefix.</summary>
    private readonly record struct Item(ItemKind Kind, int Sensor, int Value)
    {
        public const int Sensors = 4;

        public static string SensorIdOf(int sensor) => $"p/{sensor}";

        public ReadingInput? ToInput() => Kind switch
        {
            ItemKind.Good => new ReadingInput { SensorId = SensorIdOf(Sensor), Value = Value },
            ItemKind.Malformed => new ReadingInput { SensorId = "p/bad id", Value = Value },
            ItemKind.Forbidden => new ReadingInput { SensorId = "q/1", Value = Value },
            _ => null,
        };

        public override string ToString() => Kind switch
        {
            ItemKind.Good => $"{SensorIdOf(Sensor)}={Value}",
            ItemKind.Null => "null",
            ItemKind.Malformed => "malformed",
            _ => "forbidden",
        };
    }

    private sealed record Scenario(Item[]?[] Batches, int MaxBatch, int ReadingPermits, int NewSensorPermits, int MaxPerPublisher, int MaxReported)
    {
        public override string ToString() =>
            $"cap {MaxBatch}, {ReadingPermits} reading and {NewSensorPermits} new-sensor permits, {MaxPerPublisher} sensors per publisher, " +
            $"{MaxReported} listed: {string.Join(" | ", Batches.Select(b => b is null ? "null batch" : $"[{string.Join(", ", b)}]"))}";
    }

    /// <summary>One ingest with its own engine and budgets, the same for the model and the batches.</summary>
    private sealed class Side : IDisposable
    {
        private readonly TokenBucketRateLimiter _readings;
        private readonly TokenBucketRateLimiter _newSensors;

        public Side(Scenario scenario, int maxReported)
        {
            Harness = new EngineHarness(
                new FeedOptions { MaxPublishBatchSize = scenario.MaxBatch, MaxSensorsPerPublisher = scenario.MaxPerPublisher, MaxRejectionsReported = maxReported },
                new FakeTimeProvider(s_now));
            _readings = Limiter(scenario.ReadingPermits);
            _newSensors = Limiter(scenario.NewSensorPermits);
            Publisher = new Publisher("alice", id => id.StartsWith("p/", StringComparison.Ordinal), _readings, _newSensors);
        }

        public EngineHarness Harness { get; }

        public ReadingIngest Ingest => Harness.Ingest;

        public Publisher Publisher { get; }

        public void Dispose()
        {
            _readings.Dispose();
            _newSensors.Dispose();
            Harness.Dispose();
        }

        /// <summary>A token bucket that never refills by itself: what a case spends is gone.</summary>
        private static TokenBucketRateLimiter Limiter(int tokens) => new(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            AutoReplenishment = false,
            QueueLimit = 0,
        });
    }
}
