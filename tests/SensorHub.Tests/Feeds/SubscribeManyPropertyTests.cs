using System.Globalization;
using CsCheck;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// A property test (CsCheck) of <see cref="ManyFeedCursor"/> on the in-memory engine: random interleavings of
/// publishes to sensors that match the pattern or not, sensors that appear while the stream runs, and reads of random
/// sizes, over random buffer and batch sizes. Whatever the interleaving: only matching sensors, per sensor in order
/// with no duplicate, a sensor that appeared from its first reading, every reading that is missing counted as dropped
/// (history holds everything here, so every jump is the shared buffer's), and nothing counted that was not missed.
/// </summary>
/// <remarks>
/// Each case runs on one thread: a read takes what the cursor can give now (<see cref="ManyFeedCursor.ReadReadyAsync"/>)
/// and stops where it would wait, so the interleaving is the one generated. <c>SENSORHUB_PROPERTY_ITERATIONS</c> sets
/// the number of cases (default 300).
/// </remarks>
public sealed class SubscribeManyPropertyTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SENSORHUB_PROPERTY_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : 300;

    /// <summary>Sensors 0 to 3 are <c>p/0</c> to <c>p/3</c> (they match <c>p/#</c>), 4 is <c>q/0</c> (it does not).</summary>
    private static string IdOf(int sensor) => sensor == 4 ? "q/0" : $"p/{sensor}";

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (5, Gen.Select(Gen.Int[0, 4], Gen.Int[1, 15], (sensor, count) => new Op(true, sensor, count))),
        (4, Gen.Int[1, 5].Select(reads => new Op(false, 0, reads))));

    private static readonly Gen<Scenario> GenScenario = Gen.Select(
        Gen.Int[1, 20], Gen.Int[1, 8], Gen.Int[0, 8], Gen.Int[0, 12], GenOp.Array[1, 40],
        (capacity, batch, before, resumeFrom, ops) => new Scenario(capacity, batch, before, resumeFrom, ops));

    [Fact]
    public void EveryInterleavingKeepsOrderPerSensorAndCountsWhatItMisses() =>
        GenScenario.Sample(scenario => RunAsync(scenario).AsTask().GetAwaiter().GetResult(), iter: Iterations, print: s => s.ToString());

    private static async ValueTask<bool> RunAsync(Scenario scenario)
    {
        using var harness = new EngineHarness(new FeedOptions { HistoryCapacity = 10_000 });
        IFeedEngine engine = harness.Engine;
        var published = Enumerable.Range(0, 5).ToDictionary(IdOf, _ => new List<Reading>());
        // p/0 and q/0 exist before the stream opens; p/0 resumes from its resumeFrom-th reading when it has one.
        foreach (var sensor in new[] { 0, 4 })
        {
            for (var i = 0; i < Math.Max(1, scenario.Before); i++)
                published[IdOf(sensor)].Add(await engine.PublishAsync(IdOf(sensor), i, DateTime.UtcNow, CancellationToken.None));
        }
        var resumed = scenario.ResumeFrom < published["p/0"].Count ? published["p/0"][scenario.ResumeFrom] : null;
        var options = resumed is null ? null : new SubscribeManyOptions { FromSequences = new Dictionary<string, long> { ["p/0"] = resumed.Sequence } };
        var droppedBefore = harness.Engine.GetCounters().Dropped;
        var openedAt = published.ToDictionary(p => p.Key, p => p.Value.Count);

        using var cursor = new ManyFeedCursor(
            harness.Engine, harness.History, SensorPattern.Parse("p/#"), options, null, scenario.Capacity, scenario.MaxBatch, 7, harness.Time);
        await cursor.OpenAsync(CancellationToken.None);
        var delivered = new List<Reading>();
        var batch = new List<Reading>();

        async Task ReadAsync(int reads)
        {
            for (var i = 0; i < reads; i++)
            {
                batch.Clear();
                Assert.True(await cursor.ReadReadyAsync(batch, CancellationToken.None));
                Assert.True(batch.Count <= scenario.MaxBatch, $"A batch of {batch.Count}, over {scenario.MaxBatch}.");
                delivered.AddRange(batch);
                if (batch.Count == 0)
                    return;
            }
        }

        foreach (var op in scenario.Ops)
        {
            if (op.Publish)
            {
                for (var i = 0; i < op.Count; i++)
                    published[IdOf(op.Sensor)].Add(await engine.PublishAsync(IdOf(op.Sensor), i, DateTime.UtcNow, CancellationToken.None));
            }
            else
            {
                await ReadAsync(op.Count);
            }
        }
        // The end: everything read, then one more reading per sensor, each read before the next, so every sensor's
        // newest arrives and every jump before it shows.
        await ReadAsync(int.MaxValue);
        foreach (var id in published.Keys)
        {
            published[id].Add(await engine.PublishAsync(id, -1, DateTime.UtcNow, CancellationToken.None));
            await ReadAsync(int.MaxValue);
        }

        long missing = 0;
        foreach (var (id, readings) in published)
        {
            var got = delivered.Where(r => r.SensorId == id).ToList();
            if (id.StartsWith("q/", StringComparison.Ordinal))
            {
                Assert.Empty(got);
                continue;
            }
            for (var i = 1; i < got.Count; i++)
                Assert.True(got[i].Sequence > got[i - 1].Sequence, $"{id}: {got[i - 1].Sequence} then {got[i].Sequence}.");
            Assert.Equal(readings[^1], got[^1]);
            // Where it starts: from its resume point, live (the first reading after the open), or from its first reading
            // (a sensor that appeared); everything from there that did not arrive is missing.
            var start = id == "p/0"
                ? resumed is not null ? published[id].IndexOf(resumed) : openedAt[id]
                : 0;
            var expected = readings.Skip(start).ToList();
            Assert.All(got, r => Assert.Contains(r, expected));
            if (openedAt[id] == 0 && readings.Count > 0)
            {
                // A sensor that appeared: its replay reaches every reading up to the attach, so its first one arrives.
                Assert.Equal(readings[0], got[0]);
            }
            missing += expected.Count - got.Count;
        }
        Assert.Equal(missing, harness.Engine.GetCounters().Dropped - droppedBefore);
        return true;
    }

    private sealed record Op(bool Publish, int Sensor, int Count)
    {
        public override string ToString() => Publish ? $"publish {Count} to {IdOf(Sensor)}" : $"read {Count}";
    }

    private sealed record Scenario(int Capacity, int MaxBatch, int Before, int ResumeFrom, Op[] Ops)
    {
        public override string ToString() =>
            $"buffer {Capacity}, batch {MaxBatch}, {Math.Max(1, Before)} before, resume p/0 from #{ResumeFrom}: {string.Join("; ", Ops.Select(o => o.ToString()))}";
    }
}
