using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// The SDK's <c>SubscribeManyAsync</c> on real Kestrel (in-memory engine): the readings of every matching sensor, per
/// sensor in order and once, across a dropped connection (readings published during the drop come from replay, a
/// sensor that appeared during it from its first reading), gaps per sensor, and a cancel that ends the server's stream.
/// </summary>
public sealed class SubscribeManyClientTests(SubscribeManyFixture apps) : IClassFixture<SubscribeManyFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ReadingsOfEveryMatchingSensorArriveInOrderPerSensor(Protocol protocol)
    {
        var app = apps.Default;
        var root = Sensors.NewId("many");
        string a = $"{root}/a/t", b = $"{root}/b/t", c = $"{root}/c/t", other = $"{root}/a/h";
        var firstA = (await app.Engine.PublishAsync(a, 3))[0].Sequence;
        var firstB = (await app.Engine.PublishAsync(b, 3))[0].Sequence;
        await app.Engine.PublishAsync(c, 1);
        await app.Engine.PublishAsync(other, 1);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var stream = new Consumer(harness.Client, $"{root}/+/t", From((a, firstA), (b, firstB)));
        await using var _ = stream;

        // a and b replay from where they were named; c was not named, so it starts live.
        await stream.WaitForAsync(a, 3);
        await stream.WaitForAsync(b, 3);
        await app.Engine.PublishAsync(a, 5);
        await app.Engine.PublishAsync(b, 5);
        var lastC = (await app.Engine.PublishAsync(c, 5))[^1].Sequence;
        await app.Engine.PublishAsync(other, 5);
        await stream.WaitForAsync(a, 8);
        await stream.WaitForAsync(b, 8);
        await stream.WaitForAsync(c, 5);

        Assert.Equal(Enumerable.Range(0, 8).Select(i => firstA + i), stream.Sequences(a));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => firstB + i), stream.Sequences(b));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => lastC - 4 + i), stream.Sequences(c));
        Assert.Empty(stream.Sequences(other));
        Assert.Empty(stream.Gaps);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AfterADropEachSensorResumesWithoutDuplicateOrGap(Protocol protocol)
    {
        var app = apps.Default;
        var root = Sensors.NewId("many");
        string a = $"{root}/a", b = $"{root}/b", quiet = $"{root}/quiet";
        var firstA = (await app.Engine.PublishAsync(a, 1))[0].Sequence;
        var firstB = (await app.Engine.PublishAsync(b, 1))[0].Sequence;
        // Known before the stream began and silent until the drop: what it publishes during the drop is still due.
        await app.Engine.PublishAsync(quiet, 2);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var stream = new Consumer(harness.Client, $"{root}/#", From((a, firstA), (b, firstB)));
        await using var _ = stream;
        await stream.WaitForAsync(a, 1);
        await stream.WaitForAsync(b, 1);
        await app.Engine.PublishAsync(a, 3);
        await app.Engine.PublishAsync(b, 3);
        await stream.WaitForAsync(a, 4);
        await stream.WaitForAsync(b, 4);

        harness.HoldReconnects();
        harness.Drop();
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        await app.Engine.PublishAsync(a, 5);
        await app.Engine.PublishAsync(b, 5);
        var duringQuiet = await app.Engine.PublishAsync(quiet, 5);
        harness.ReleaseReconnects();
        await stream.WaitForAsync(a, 9);
        await stream.WaitForAsync(b, 9);
        await stream.WaitForAsync(quiet, 5);
        // And live again after the replay.
        await app.Engine.PublishAsync(a, 1);
        await app.Engine.PublishAsync(quiet, 1);
        await stream.WaitForAsync(a, 10);
        await stream.WaitForAsync(quiet, 6);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => firstA + i), stream.Sequences(a));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => firstB + i), stream.Sequences(b));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => duringQuiet[0].Sequence + i), stream.Sequences(quiet));
        Assert.Empty(stream.Gaps);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
        Assert.True(harness.CountLogs(ClientLogEvents.Resuming) >= 1, harness.DescribeLog());
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ASensorThatAppearsDuringADropArrivesFromItsFirstReading(Protocol protocol)
    {
        var app = apps.Default;
        var root = Sensors.NewId("many");
        string a = $"{root}/a", fresh = $"{root}/fresh";
        var firstA = (await app.Engine.PublishAsync(a, 1))[0].Sequence;
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var stream = new Consumer(harness.Client, $"{root}/+", From((a, firstA)));
        await using var _ = stream;
        await stream.WaitForAsync(a, 1);

        harness.HoldReconnects();
        harness.Drop();
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        var published = await app.Engine.PublishAsync(fresh, 4);
        await app.Engine.PublishAsync(a, 2);
        harness.ReleaseReconnects();
        await stream.WaitForAsync(fresh, 4);
        await stream.WaitForAsync(a, 3);

        Assert.Equal(published.Select(r => r.Sequence), stream.Sequences(fresh));
        Assert.Equal(Enumerable.Range(0, 3).Select(i => firstA + i), stream.Sequences(a));
        Assert.Empty(stream.Gaps);
    }

    [Fact]
    public async Task ReadingsHistoryLostDuringADropAreCountedExactlyForTheirOwnSensor()
    {
        // History keeps 5 readings a sensor: of the 10 a publishes while the client is away, 5 are gone; b loses none.
        var app = apps.SmallHistory;
        var root = Sensors.NewId("many");
        string a = $"{root}/a", b = $"{root}/b";
        var firstA = (await app.Engine.PublishAsync(a, 1))[0].Sequence;
        var firstB = (await app.Engine.PublishAsync(b, 1))[0].Sequence;
        await using var harness = await ClientHarness.StartAsync(app, Protocol.MessagePack);
        var stream = new Consumer(harness.Client, $"{root}/+", From((a, firstA), (b, firstB)));
        await using var _ = stream;
        await stream.WaitForAsync(a, 1);
        await stream.WaitForAsync(b, 1);

        harness.HoldReconnects();
        harness.Drop();
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        var duringA = await app.Engine.PublishAsync(a, 10);
        var duringB = await app.Engine.PublishAsync(b, 3);
        harness.ReleaseReconnects();
        await stream.WaitForAsync(a, 6);
        await stream.WaitForAsync(b, 4);

        Assert.Equal([firstA, .. duringA.Skip(5).Select(r => r.Sequence)], stream.Sequences(a));
        Assert.Equal([firstB, .. duringB.Select(r => r.Sequence)], stream.Sequences(b));
        var gap = Assert.Single(stream.Gaps);
        Assert.Equal(new SequenceGap(a, duringA[0].Sequence, duringA[4].Sequence, SequenceGapCause.HistoryExpired), gap);
        Assert.Equal(5, gap.Count);
    }

    [Fact]
    public async Task AcrossAServerRestartEachSensorReportsARestartNotACount()
    {
        await using var first = new SensorHubApplication(Transport.Kestrel);
        await using var second = new SensorHubApplication(Transport.Kestrel);
        var root = Sensors.NewId("many");
        string a = $"{root}/a", b = $"{root}/b";
        var beforeA = await first.Engine.PublishAsync(a, 2);
        var beforeB = await first.Engine.PublishAsync(b, 2);
        await using var harness = await ClientHarness.StartAsync(first, Protocol.MessagePack);
        var stream = new Consumer(harness.Client, $"{root}/#", From((a, beforeA[0].Sequence), (b, beforeB[0].Sequence)));
        await using var _ = stream;
        await stream.WaitForAsync(a, 2);
        await stream.WaitForAsync(b, 2);

        // A stopping server completes its streams before it closes the connections; the devices are back first.
        harness.HoldReconnects();
        await harness.MoveToAsync(second);
        await first.DisposeAsync().AsTask().WaitAsync(Timeouts.Default);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        var afterA = await second.Engine.PublishAsync(a, 3);
        var afterB = await second.Engine.PublishAsync(b, 3);
        harness.ReleaseReconnects();
        await stream.WaitForAsync(a, 5);
        await stream.WaitForAsync(b, 5);

        Assert.Equal([.. beforeA.Select(r => r.Sequence), .. afterA.Select(r => r.Sequence)], stream.Sequences(a));
        Assert.Equal([.. beforeB.Select(r => r.Sequence), .. afterB.Select(r => r.Sequence)], stream.Sequences(b));
        Assert.Equal(
            [
                new SequenceGap(a, beforeA[^1].Sequence + 1, afterA[0].Sequence - 1, SequenceGapCause.ServerRestart),
                new SequenceGap(b, beforeB[^1].Sequence + 1, afterB[0].Sequence - 1, SequenceGapCause.ServerRestart),
            ],
            stream.Gaps.OrderBy(g => g.SensorId, StringComparer.Ordinal));
        Assert.All(stream.Gaps, g => Assert.Null(g.Count));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ReadingsTheServerDropsForASlowConsumerAreReportedAsGapsOfTheirOwnSensor(Protocol protocol)
    {
        // The stream's one buffer holds 4 readings: a burst of 2 × 1,000 outruns what the stream can send.
        var app = apps.SmallBuffer;
        var root = Sensors.NewId("many");
        string a = $"{root}/a", b = $"{root}/b";
        var firstA = (await app.Engine.PublishAsync(a, 1))[0].Sequence;
        var firstB = (await app.Engine.PublishAsync(b, 1))[0].Sequence;
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var stream = new Consumer(harness.Client, $"{root}/+", From((a, firstA), (b, firstB)));
        await using var _ = stream;
        await stream.WaitForAsync(a, 1);
        await stream.WaitForAsync(b, 1);
        var droppedBefore = (await app.GetStatsAsync()).ReadingsDropped;

        long lastA = 0, lastB = 0;
        for (var i = 0; i < 1_000; i++)
        {
            lastA = (await app.Engine.PublishAsync(a, 1))[0].Sequence;
            lastB = (await app.Engine.PublishAsync(b, 1))[0].Sequence;
        }
        // The newest readings are never the ones dropped.
        await stream.WaitForSequenceAsync(a, lastA);
        await stream.WaitForSequenceAsync(b, lastB);

        foreach (var (sensorId, first, last) in new[] { (a, firstA, lastA), (b, firstB, lastB) })
        {
            var gaps = stream.Gaps.Where(g => g.SensorId == sensorId).ToList();
            Assert.NotEmpty(gaps);
            Assert.All(gaps, g => Assert.Equal(SequenceGapCause.Dropped, g.Cause));
            // Every sequence is either delivered once or inside exactly one reported gap.
            var covered = stream.Sequences(sensorId).Concat(gaps.SelectMany(g => Span(g.FromSequence, g.ToSequence))).Order();
            Assert.Equal(Span(first, last), covered);
        }
        var reported = stream.Gaps.Sum(g => g.Count!.Value);
        await Timeouts.WaitUntilAsync(
            async () => (await app.GetStatsAsync()).ReadingsDropped - droppedBefore == reported, Timeouts.Default, $"the server counted the {reported} dropped");
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task CancellingEndsTheServersStreamAndItsSubscriptions(Protocol protocol)
    {
        var app = apps.Default;
        var root = Sensors.NewId("many");
        string a = $"{root}/a", b = $"{root}/b";
        var firstA = (await app.Engine.PublishAsync(a, 1))[0].Sequence;
        await app.Engine.PublishAsync(b, 1);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var baseline = app.Activity.ActiveStreams;
        var stream = new Consumer(harness.Client, $"{root}/#", From((a, firstA)));
        await using var _ = stream;
        await stream.WaitForAsync(a, 1);

        Assert.Equal(baseline + 1, app.Activity.ActiveStreams);
        Assert.Equal(1, Sensors.SubscribersOf(app, a));
        Assert.Equal(1, Sensors.SubscribersOf(app, b));

        await stream.CancelAsync();

        await Timeouts.WaitUntilAsync(
            () => app.Activity.ActiveStreams == baseline && Sensors.SubscribersOf(app, a) == 0 && Sensors.SubscribersOf(app, b) == 0,
            Timeouts.GeneratorEnd, "the stream and its sensors' subscriptions ended after cancel");
    }

    /// <summary>Options that start each named sensor from its sequence.</summary>
    private static SubscribeManyOptions From(params (string SensorId, long Sequence)[] sensors) =>
        new() { FromSequences = sensors.ToDictionary(s => s.SensorId, s => s.Sequence) };

    private static IEnumerable<long> Span(long from, long to)
    {
        for (var s = from; s <= to; s++)
            yield return s;
    }

    /// <summary>Consumes a <c>SubscribeMany</c> stream in the background, keeping each sensor's readings and the gaps reported.</summary>
    private sealed class Consumer : IAsyncDisposable
    {
        private readonly Dictionary<string, List<Reading>> _readings = [];
        private readonly List<SequenceGap> _gaps = [];
        private readonly CancellationTokenSource _cancel = new(Timeouts.Default * 2);
        private readonly Task _run;

        public Consumer(SensorHubClient client, string pattern, SubscribeManyOptions? options) => _run = Task.Run(async () =>
        {
            await foreach (var batch in client.SubscribeManyAsync(pattern, options, OnGap, _cancel.Token))
            {
                lock (_readings)
                {
                    foreach (var reading in batch)
                    {
                        if (!_readings.TryGetValue(reading.SensorId, out var list))
                            _readings[reading.SensorId] = list = [];
                        list.Add(reading);
                    }
                }
            }
        });

        private void OnGap(SequenceGap gap)
        {
            lock (_gaps)
                _gaps.Add(gap);
        }

        public IReadOnlyList<SequenceGap> Gaps
        {
            get
            {
                lock (_gaps)
                    return [.. _gaps];
            }
        }

        public IReadOnlyList<long> Sequences(string sensorId)
        {
            lock (_readings)
                return _readings.TryGetValue(sensorId, out var list) ? [.. list.Select(r => r.Sequence)] : [];
        }

        public Task WaitForAsync(string sensorId, int count) =>
            WaitAsync(() => Sequences(sensorId).Count >= count, $"{count} readings of {sensorId}");

        public Task WaitForSequenceAsync(string sensorId, long sequence) =>
            WaitAsync(() => Sequences(sensorId).Contains(sequence), $"reading {sequence} of {sensorId}");

        public async Task CancelAsync()
        {
            await _cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _run.WaitAsync(Timeouts.Default));
        }

        public async ValueTask DisposeAsync()
        {
            await _cancel.CancelAsync();
            try
            {
                await _run.WaitAsync(Timeouts.Default);
            }
            catch (OperationCanceledException)
            {
            }
            _cancel.Dispose();
        }

        private async Task WaitAsync(Func<bool> condition, string what)
        {
            var deadline = DateTime.UtcNow + Timeouts.Default;
            while (!condition())
            {
                if (_run.IsCompleted)
                    await _run; // a stream that failed shows its error
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"Not within {Timeouts.Default.TotalSeconds:0} s: {what}");
                await Task.Delay(5);
            }
        }
    }
}

/// <summary>
/// Kestrel apps for the SDK's <c>SubscribeMany</c> tests: default settings, one whose stream buffer holds 4 readings,
/// one whose history keeps 5 readings a sensor.
/// </summary>
public sealed class SubscribeManyFixture : IAsyncLifetime
{
    private readonly Lazy<SensorHubApplication> _default = new(() => new SensorHubApplication(Transport.Kestrel));
    private readonly Lazy<SensorHubApplication> _smallBuffer = new(() => new SensorHubApplication(
        Transport.Kestrel, new Dictionary<string, string?> { ["SensorHub:Feeds:SubscribeManyBufferCapacity"] = "4" }));
    private readonly Lazy<SensorHubApplication> _smallHistory = new(() => new SensorHubApplication(
        Transport.Kestrel, new Dictionary<string, string?> { ["SensorHub:Feeds:HistoryCapacity"] = "5" }));

    public SensorHubApplication Default => _default.Value;

    public SensorHubApplication SmallBuffer => _smallBuffer.Value;

    public SensorHubApplication SmallHistory => _smallHistory.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { _default, _smallBuffer, _smallHistory })
        {
            if (app.IsValueCreated)
                await app.Value.DisposeAsync();
        }
    }
}
