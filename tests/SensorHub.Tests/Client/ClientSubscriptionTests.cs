using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// The SDK's subscriptions outlive a dropped connection on real Kestrel: they resume from the last delivered sequence
/// plus one, without a gap or a duplicate, and name exactly what history could no longer give back.
/// </summary>
public sealed class ClientSubscriptionTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SubscriptionResumesAfterADropWithoutGapOrDuplicate(Protocol protocol)
    {
        var (first, readings, harness, gaps) = await ConsumeAcrossADropAsync(protocol, batches: false);
        await using var _ = harness;

        Assert.Equal(first, readings[0].Sequence);
        Assert.Equal(Wanted, readings.Count);
        Sensors.AssertConsecutive(readings);
        Assert.Empty(gaps);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task BatchSubscriptionResumesAfterADropWithoutGapOrDuplicate(Protocol protocol)
    {
        var (first, readings, harness, gaps) = await ConsumeAcrossADropAsync(protocol, batches: true);
        await using var _ = harness;

        Assert.Equal(first, readings[0].Sequence);
        Assert.True(readings.Count >= Wanted);
        Sensors.AssertConsecutive(readings);
        Assert.Empty(gaps);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task GapNoticeNamesTheSpanThatHistoryNoLongerHolds(Protocol protocol)
    {
        var app = apps.SmallHistory;
        var sensorId = Sensors.NewId();
        var first = (await app.Engine.PublishAsync(sensorId, 5))[0].Sequence;
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var eventGaps = new List<SequenceGap>();
        var callbackGaps = new List<SequenceGap>();
        harness.Client.GapDetected += (_, e) => eventGaps.Add(e.Gap);
        var received = new List<Reading>();
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var consumer = Task.Run(async () =>
        {
            await foreach (var reading in harness.Client.SubscribeAsync(sensorId, new SubscribeOptions { FromSequence = first }, callbackGaps.Add, cts.Token))
            {
                lock (received)
                    received.Add(reading);
                if (reading.Sequence == first + 34)
                    break;
            }
        });
        await Timeouts.WaitUntilAsync(() => { lock (received) return received.Count == 5; }, Timeouts.Default, "readings 1 to 5");

        harness.HoldReconnects();
        harness.Drop();
        await harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        // 5 to 34 (from the first) while the client is away: history keeps 25 to 34 only.
        await app.Engine.PublishAsync(sensorId, 30);
        harness.ReleaseReconnects();
        await consumer.WaitAsync(Timeouts.Default);

        // Offsets from the first sequence: 0 to 4 before the drop, then 25 to 34 (history's 10); 5 to 24 are gone.
        Assert.Equal([0, 1, 2, 3, 4, .. Enumerable.Range(25, 10).Select(i => (long)i)], received.Select(r => r.Sequence - first));
        var gap = Assert.Single(eventGaps);
        Assert.Equal(new SequenceGap(sensorId, first + 5, first + 24, SequenceGapCause.HistoryExpired), gap);
        Assert.Equal(20, gap.Count);
        Assert.Equal([gap], callbackGaps);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task PublishedReadingsReachASubscriberAndTheSensorList(Protocol protocol)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId();
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var result = await harness.Client.PublishAsync(Inputs(sensorId, 5), cts.Token).WaitAsync(Timeouts.Default);

        Assert.Equal(5, result.Accepted);
        Assert.Equal(0, result.Rejected);
        var sensors = await harness.Client.ListSensorsAsync(cts.Token).WaitAsync(Timeouts.Default);
        var sensor = Assert.Single(sensors, s => s.Id == sensorId);
        Assert.Equal(4, sensor.LastValue);
        var replayed = new List<Reading>();
        await foreach (var reading in harness.Client.SubscribeAsync(sensorId, new SubscribeOptions { FromSequence = sensor.LastSequence - 4 }, cts.Token))
        {
            replayed.Add(reading);
            if (replayed.Count == 5)
                break;
        }
        Assert.Equal([0.0, 1, 2, 3, 4], replayed.Select(r => r.Value));
    }

    private const int Wanted = 400;

    private async Task<(long First, List<Reading> Readings, ClientHarness Harness, List<SequenceGap> Gaps)> ConsumeAcrossADropAsync(Protocol protocol, bool batches)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId();
        var first = (await app.Engine.PublishAsync(sensorId, 1))[0].Sequence;
        var harness = await ClientHarness.StartAsync(app, protocol);
        var gaps = new List<SequenceGap>();
        harness.Client.GapDetected += (_, e) => gaps.Add(e.Gap);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        using var stopPublishing = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            while (!stopPublishing.IsCancellationRequested)
            {
                await app.Engine.PublishAsync(sensorId, 1);
                await Task.Delay(1);
            }
        });

        var readings = new List<Reading>();
        var dropped = false;
        var options = new SubscribeOptions { FromSequence = first };
        try
        {
            if (batches)
            {
                await foreach (var batch in harness.Client.SubscribeBatchesAsync(sensorId, options, cts.Token))
                {
                    readings.AddRange(batch);
                    if (Done())
                        break;
                }
            }
            else
            {
                await foreach (var reading in harness.Client.SubscribeAsync(sensorId, options, cts.Token))
                {
                    readings.Add(reading);
                    if (Done())
                        break;
                }
            }
        }
        finally
        {
            await stopPublishing.CancelAsync();
            await publisher.WaitAsync(Timeouts.Default);
        }
        return (first, readings, harness, gaps);

        bool Done()
        {
            if (!dropped && readings.Count >= 100)
            {
                dropped = true;
                harness.Drop();
            }
            return readings.Count >= Wanted;
        }
    }

    private static async IAsyncEnumerable<ReadingInput> Inputs(string sensorId, int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return new ReadingInput { SensorId = sensorId, Value = i };
            await Task.Yield();
        }
    }
}
