using System.Globalization;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// Property-based tests (CsCheck) of the engine and <see cref="FeedCursor"/>: random interleavings of publishes,
/// subscriptions (live or from a random sequence, paced or not), slow and fast reads, and time passing, over random
/// history, buffer and page sizes. A failing case is shrunk to a small one and printed with its seed.
/// </summary>
/// <remarks>
/// Each case runs on one thread against a fake clock: a read takes what the cursor can give now and stops where it
/// would wait, so the interleaving is the one generated. <c>SENSORHUB_PROPERTY_ITERATIONS</c> sets the number of cases
/// (default 300, a few seconds); <c>CsCheck_Seed</c> replays a printed seed.
/// </remarks>
public sealed class FeedPropertyTests
{
    private const string Sensor = "s";
    private const double PacedRate = 10;
    private static readonly TimeSpan PacedInterval = TimeSpan.FromSeconds(1 / PacedRate);

    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SENSORHUB_PROPERTY_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : 300;

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (4, Gen.Int[1, 12].Select(count => new Op(OpKind.Publish, count, 0, false))),
        (2, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 60], Gen.Bool, (from, offset, paced) => new Op(OpKind.Subscribe, from, offset, paced))),
        (5, Gen.Select(Gen.Int[0, 7], Gen.Int[1, 25], (subscriber, max) => new Op(OpKind.Read, subscriber, max, false))),
        (2, Gen.Int[0, 250].Select(milliseconds => new Op(OpKind.Advance, milliseconds, 0, false))));

    private static readonly Gen<Scenario> GenScenario = Gen.Select(
        Gen.Int[1, 40], Gen.Int[1, 10], Gen.Int[1, 10], GenOp.Array[1, 60],
        (history, buffer, page, ops) => new Scenario(history, buffer, page, ops));

    [Fact]
    public Task EverySubscriberSeesIncreasingSequencesAndLosesOnlyWhatHistoryNoLongerHolds() =>
        GenScenario.SampleAsync(RunAsync, iter: Iterations, print: s => s.ToString());

    /// <summary>
    /// Random publishes by four publishers and the server, subscriptions coming and going, the server taking sensors
    /// over, and idle sweeps, under random caps: every outcome, count and page is the one a plain model predicts.
    /// </summary>
    [Fact]
    public Task SensorCapsAndIdleRemovalFollowTheirModel() =>
        GenMembership.SampleAsync(RunMembershipAsync, iter: Iterations, print: s => s.ToString());

    /// <summary>Random sensors, prefixes, positions, page sizes and visibility: the pages together are the model's sorted, filtered ids.</summary>
    [Fact]
    public Task PagesTogetherAreEverySensorThatMatchesInOrderOnce() =>
        GenListing.SampleAsync(RunListingAsync, iter: Iterations, print: s => s.ToString());

    private static async Task RunAsync(Scenario scenario)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
        using var harness = new EngineHarness(
            new FeedOptions
            {
                HistoryCapacity = scenario.HistoryCapacity,
                SubscriberBufferCapacity = scenario.BufferCapacity,
                ReplayPageSize = scenario.PageSize,
            },
            time);
        var published = await harness.Engine.PublishAsync(Sensor, 1);
        var first = published[0].Sequence;
        var subscribers = new List<Subscriber>();
        try
        {
            foreach (var op in scenario.Ops)
            {
                switch (op.Kind)
                {
                    case OpKind.Publish:
                        published.AddRange(await harness.Engine.PublishAsync(Sensor, op.A));
                        break;
                    case OpKind.Subscribe:
                        long? from = op.A switch { 0 => null, 1 => 0, _ => first + op.B };
                        subscribers.Add(Subscriber.Open(harness, from, op.Paced));
                        break;
                    case OpKind.Read when subscribers.Count > 0:
                        await subscribers[op.A % subscribers.Count].ReadAsync(op.B, time);
                        break;
                    case OpKind.Advance:
                        time.Advance(TimeSpan.FromMilliseconds(op.A));
                        break;
                }
            }

            // The end: the server stops, each stream delivers what it still can, and time passes for the paced ones.
            foreach (var subscriber in subscribers)
                subscriber.MarkStop();
            harness.Stop();
            foreach (var subscriber in subscribers)
            {
                for (var round = 0; !subscriber.Ended; round++)
                {
                    Assert.True(round < 100_000, $"Subscriber {subscriber} did not end after the engine stopped.");
                    await subscriber.ReadAsync(int.MaxValue, time);
                    time.Advance(PacedInterval);
                }
            }

            Assert.True(harness.Registry.TryGet(Sensor, out var feed));
            var oldestKept = feed.ReadHistory(0, 1)[0].Sequence;
            foreach (var subscriber in subscribers)
                subscriber.Check(published, oldestKept);
        }
        finally
        {
            foreach (var subscriber in subscribers)
                subscriber.Dispose();
        }
    }

    private enum OpKind
    {
        Publish,
        Subscribe,
        Read,
        Advance,
    }

    /// <summary>One step: Publish A readings; Subscribe (A: 0 live, 1 from 0, 2 from first + B; paced or not); Read subscriber A up to B; Advance A ms.</summary>
    private readonly record struct Op(OpKind Kind, int A, int B, bool Paced)
    {
        public override string ToString() => Kind switch
        {
            OpKind.Publish => $"publish {A}",
            OpKind.Subscribe => $"subscribe {(A switch { 0 => "live", 1 => "from 0", _ => $"from first+{B}" })}{(Paced ? " paced" : "")}",
            OpKind.Read => $"read #{A} up to {B}",
            _ => $"advance {A} ms",
        };
    }

    private sealed record Scenario(int HistoryCapacity, int BufferCapacity, int PageSize, Op[] Ops)
    {
        public override string ToString()
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"history {HistoryCapacity}, buffer {BufferCapacity}, page {PageSize}: ");
            text.AppendJoin("; ", Ops);
            return text.ToString();
        }
    }

    /// <summary>One subscription, read as the hub's generators read it, and what it delivered at which (fake) moment.</summary>
    private sealed class Subscriber : IDisposable
    {
        private readonly FeedCursor _cursor;
        private readonly LiveSubscription _subscription;
        private readonly long? _from;
        private readonly bool _paced;
        private readonly List<(Reading Reading, DateTimeOffset At)> _delivered = [];
        private Task<bool>? _pending;
        private int _deliveredBeforeStop = int.MaxValue;

        private Subscriber(FeedCursor cursor, LiveSubscription subscription, long? from, bool paced)
        {
            _cursor = cursor;
            _subscription = subscription;
            _from = from;
            _paced = paced;
        }

        public bool Ended { get; private set; }

        /// <summary>The server stops now: from here a paced stream sends its newest at once, without its slot.</summary>
        public void MarkStop() => _deliveredBeforeStop = _delivered.Count;

        public static Subscriber Open(EngineHarness harness, long? from, bool paced)
        {
            var subscription = (LiveSubscription)harness.Engine.Subscribe(Sensor, paced ? LiveBufferMode.Latest : LiveBufferMode.Queue)!;
            var cursor = new FeedCursor(
                subscription, harness.History, Sensor, from, paced ? PacedRate : null, harness.Options.Value.ReplayPageSize, harness.Time);
            return new Subscriber(cursor, subscription, from, paced);
        }

        /// <summary>Takes up to <paramref name="max"/> readings, stopping where the cursor would wait.</summary>
        public async Task ReadAsync(int max, FakeTimeProvider time)
        {
            for (var taken = 0; taken < max && !Ended;)
            {
                _pending ??= _cursor.WaitToReadAsync(CancellationToken.None).AsTask();
                if (!_pending.IsCompleted)
                {
                    if (!CanProceed(time))
                        return;
                    // It can proceed, so it must: a wait that never ends here is a bug, and fails the case.
                    await _pending.WaitAsync(Timeouts.Default);
                }
                var more = await _pending;
                _pending = null;
                if (!more)
                {
                    Ended = true;
                    return;
                }
                while (taken < max && _cursor.TryRead(out var reading))
                {
                    _delivered.Add((reading, time.GetUtcNow()));
                    taken++;
                }
            }
        }

        public void Check(List<Reading> published, long oldestKept)
        {
            var attachedAfter = _subscription.AttachedAfter;
            var sequences = _delivered.Select(d => d.Reading.Sequence).ToList();
            for (var i = 1; i < sequences.Count; i++)
                Assert.True(sequences[i] > sequences[i - 1], $"{this}: {sequences[i - 1]} is followed by {sequences[i]}.");
            var bySequence = published.ToDictionary(r => r.Sequence);
            foreach (var (reading, _) in _delivered)
                Assert.Equal(bySequence[reading.Sequence], reading);

            // What it was owed: from fromSequence (0: the first) on, or, live only, what came after it attached.
            var start = _from ?? attachedAfter + 1;
            var owed = published.Where(r => r.Sequence >= start && (!_paced || r.Sequence <= attachedAfter)).Select(r => r.Sequence);
            var missing = owed.Except(sequences).ToList();
            var lost = missing.FirstOrDefault(s => s >= oldestKept, -1);
            Assert.True(lost < 0, $"{this}: sequence {lost} is missing though history still holds it (oldest kept {oldestKept}).");

            if (_paced)
            {
                var live = _delivered.Where(d => d.Reading.Sequence > attachedAfter).ToList();
                var liveBeforeStop = _delivered.Take(_deliveredBeforeStop).Count(d => d.Reading.Sequence > attachedAfter);
                for (var i = 1; i < liveBeforeStop; i++)
                {
                    var gap = live[i].At - live[i - 1].At;
                    Assert.True(gap >= PacedInterval, $"{this}: live readings {gap.TotalMilliseconds} ms apart at maxRate {PacedRate}.");
                }
                // At the stop it does not wait out its slot: one more reading, the newest, and the stream completes.
                Assert.InRange(live.Count - liveBeforeStop, 0, 1);
                // Sampling skips readings on purpose, but the newest one is always delivered in the end.
                if (published[^1].Sequence > attachedAfter && published[^1].Sequence >= start)
                {
                    Assert.NotEmpty(live);
                    Assert.Equal(published[^1].Sequence, live[^1].Reading.Sequence);
                }
                Assert.Equal(0, _subscription.Dropped);
            }
            else
            {
                // Readings lost after the attach are counted as dropped; older ones are history's, not the subscriber's.
                Assert.Equal(missing.Count(s => s > attachedAfter), _subscription.Dropped);
            }
        }

        public override string ToString() =>
            $"subscriber {(_from is { } f ? $"from {f}" : "live")}{(_paced ? " paced" : "")} (attached after {_subscription.AttachedAfter})";

        public void Dispose() => _cursor.Dispose();

        /// <summary>Whether the cursor's wait has something to end it: a buffered or final reading and, paced, its slot.</summary>
        private bool CanProceed(FakeTimeProvider time)
        {
            var live = _subscription.Live;
            if (live.Count == 0 && !live.Completion.IsCompleted)
                return false;
            if (!_paced)
                return true;
            var lastLive = _delivered.LastOrDefault(d => d.Reading.Sequence > _subscription.AttachedAfter);
            return lastLive.Reading is null || time.GetUtcNow() - lastLive.At >= PacedInterval;
        }
    }

    // ---- Sensor membership: caps, adoption, idle sweeps ----

    private static readonly Gen<MemberOp> GenMemberOp = Gen.Frequency(
        (8, Gen.Select(Gen.Int[0, 4], Gen.Int[0, 11], (who, sensor) => new MemberOp(MemberOpKind.Publish, who, sensor))),
        (2, Gen.Int[0, 11].Select(sensor => new MemberOp(MemberOpKind.Subscribe, 0, sensor))),
        (2, Gen.Int[0, 7].Select(which => new MemberOp(MemberOpKind.Unsubscribe, which, 0))),
        (1, Gen.Int[0, 11].Select(sensor => new MemberOp(MemberOpKind.Register, 0, sensor))),
        (2, Gen.Const(new MemberOp(MemberOpKind.Sweep, 0, 0))));

    private static readonly Gen<MembershipScenario> GenMembership = Gen.Select(
        Gen.Int[1, 8], Gen.Int[1, 4], GenMemberOp.Array[1, 80], (max, perPublisher, ops) => new MembershipScenario(max, perPublisher, ops));

    private static async Task RunMembershipAsync(MembershipScenario scenario)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
        using var harness = new EngineHarness(new FeedOptions { MaxSensors = scenario.MaxSensors, MaxSensorsPerPublisher = scenario.MaxPerPublisher }, time);
        var model = new Dictionary<string, ModelSensor>(StringComparer.Ordinal);
        var open = new List<(string Id, IFeedSubscription Subscription)>();
        try
        {
            foreach (var (op, step) in scenario.Ops.Select((op, step) => (op, step)))
            {
                var id = $"s/{op.Sensor}";
                switch (op.Kind)
                {
                    case MemberOpKind.Publish:
                        var publisher = op.Who == 4 ? null : $"p{op.Who}";
                        var registration = publisher is null ? SensorRegistration.ByServer : SensorRegistration.ByPublisher(publisher);
                        var outcome = await harness.Engine.PublishAsync(id, step, time.GetUtcNow().UtcDateTime, registration, CancellationToken.None);
                        Assert.Equal(ModelPublish(model, scenario, id, publisher), outcome.Status);
                        break;
                    case MemberOpKind.Subscribe:
                        var subscription = harness.Engine.Subscribe(id, LiveBufferMode.Queue);
                        Assert.Equal(model.TryGetValue(id, out var watched), subscription is not null);
                        if (subscription is not null)
                        {
                            open.Add((id, subscription));
                            watched!.Subscribers++;
                            watched.Watched = true;
                        }
                        break;
                    case MemberOpKind.Unsubscribe when open.Count > 0:
                        var (left, leaving) = open[op.Who % open.Count];
                        open.Remove((left, leaving));
                        leaving.Dispose();
                        model[left].Subscribers--;
                        break;
                    case MemberOpKind.Register:
                        await harness.Engine.RegisterAsync(new SensorDescriptor(id, id, "own", null), CancellationToken.None);
                        if (model.TryGetValue(id, out var adopted))
                            adopted.Registrar = null;
                        else
                            model[id] = new ModelSensor(null);
                        break;
                    case MemberOpKind.Sweep:
                        // A zero idle time: every device sensor that showed no reading and no subscriber since the sweep before goes.
                        var removed = await harness.Engine.RemoveIdleSensorsAsync(TimeSpan.Zero, CancellationToken.None);
                        Assert.Equal(ModelSweep(model), removed);
                        break;
                }
            }

            Assert.Equal(model.Count, harness.Engine.GetCounters().Sensors);
            Assert.Equal(open.Count, harness.Engine.GetCounters().Subscriptions);
            for (var p = 0; p < 4; p++)
                Assert.Equal(model.Values.Count(s => s.Registrar == $"p{p}"), harness.Registry.CountOf($"p{p}"));
            var listed = await harness.Engine.ListSensorsAsync("", null, 1_000, null, CancellationToken.None);
            Assert.Equal(model.Keys.Order(StringComparer.Ordinal), listed.Sensors.Select(s => s.Id));
        }
        finally
        {
            foreach (var (_, subscription) in open)
                subscription.Dispose();
        }
    }

    private static PublishStatus ModelPublish(Dictionary<string, ModelSensor> model, MembershipScenario scenario, string id, string? publisher)
    {
        if (model.TryGetValue(id, out var known))
        {
            known.Active = true;
            return PublishStatus.Published;
        }
        if (model.Count >= scenario.MaxSensors)
            return PublishStatus.TooManySensors;
        if (publisher is not null && model.Values.Count(s => s.Registrar == publisher) >= scenario.MaxPerPublisher)
            return PublishStatus.TooManySensorsForPublisher;
        // Its first reading is the registering one: quiet from the start as far as a sweep can tell.
        model[id] = new ModelSensor(publisher);
        return PublishStatus.Registered;
    }

    private static int ModelSweep(Dictionary<string, ModelSensor> model)
    {
        var removed = 0;
        foreach (var (id, sensor) in model.ToList())
        {
            if (sensor.Registrar is null)
                continue;
            if (sensor.Subscribers > 0 || sensor.Watched || sensor.Active)
            {
                (sensor.Watched, sensor.Active) = (false, false);
                continue;
            }
            model.Remove(id);
            removed++;
        }
        return removed;
    }

    private enum MemberOpKind
    {
        Publish,
        Subscribe,
        Unsubscribe,
        Register,
        Sweep,
    }

    /// <summary>Publish (Who 0-3: publisher pWho, 4: the server) to s/Sensor; Subscribe to it; Unsubscribe open one #Who; Register it as the server's; Sweep.</summary>
    private readonly record struct MemberOp(MemberOpKind Kind, int Who, int Sensor)
    {
        public override string ToString() => Kind switch
        {
            MemberOpKind.Publish => $"{(Who == 4 ? "server" : $"p{Who}")} publishes s/{Sensor}",
            MemberOpKind.Subscribe => $"subscribe s/{Sensor}",
            MemberOpKind.Unsubscribe => $"unsubscribe #{Who}",
            MemberOpKind.Register => $"server registers s/{Sensor}",
            _ => "sweep",
        };
    }

    private sealed record MembershipScenario(int MaxSensors, int MaxPerPublisher, MemberOp[] Ops)
    {
        public override string ToString() => $"max {MaxSensors}, per publisher {MaxPerPublisher}: {string.Join("; ", Ops)}";
    }

    private sealed class ModelSensor(string? registrar)
    {
        public string? Registrar { get; set; } = registrar;

        public int Subscribers { get; set; }

        /// <summary>A subscriber attached since the last sweep.</summary>
        public bool Watched { get; set; }

        /// <summary>A reading after the registering one since the last sweep.</summary>
        public bool Active { get; set; }
    }

    // ---- Pages of sensors ----

    private static readonly Gen<string> GenId = Gen.Select(Gen.Char["ab1"], Gen.Char["ab1/"].Array[0, 3], (first, rest) => first + new string(rest));

    private static readonly Gen<ListingScenario> GenListing = Gen.Select(
        GenId.HashSet[0, 30], Gen.Char["ab1/"].Array[0, 2], Gen.Int[1, 5], Gen.Bool,
        (ids, prefix, limit, everything) => new ListingScenario([.. ids], new string(prefix), limit, everything));

    private static async Task RunListingAsync(ListingScenario scenario)
    {
        using var harness = new EngineHarness();
        foreach (var id in scenario.Ids)
            await harness.Engine.PublishAsync(id, 1);
        // Visibility that leaves holes all over the order: ids with an even sum of characters.
        Predicate<string>? visible = scenario.Everything ? null : id => id.Sum(c => c) % 2 == 0;

        var pages = await SensorListingTests.PagesAsync(harness, scenario.Prefix, scenario.Limit, visible);

        var expected = scenario.Ids
            .Where(id => id.StartsWith(scenario.Prefix, StringComparison.Ordinal) && (visible is null || visible(id)))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, pages.SelectMany(p => p.Sensors).Select(s => s.Id));
        // Every page but the last is full: a caller is never handed an empty page while more follow.
        Assert.All(pages.SkipLast(1), p => Assert.Equal(scenario.Limit, p.Sensors.Length));
    }

    private sealed record ListingScenario(string[] Ids, string Prefix, int Limit, bool Everything)
    {
        public override string ToString() => $"ids [{string.Join(", ", Ids)}], prefix '{Prefix}', limit {Limit}, {(Everything ? "all visible" : "even sums visible")}";
    }
}
