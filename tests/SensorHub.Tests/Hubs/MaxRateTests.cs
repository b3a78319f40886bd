using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

public sealed class MaxRateTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    /// <summary>
    /// A sensor publishing at about 1 kHz, watched at 20 readings a second: the server spaces live readings at least
    /// 50 ms apart, so 30 of them cannot arrive in less than 29 intervals, whatever the machine's load; unpaced they
    /// would arrive within some 30 ms.
    /// </summary>
    [Theory]
    [MemberData(nameof(HubTargets.AllWithSubscribeMethods), MemberType = typeof(HubTargets))]
    public async Task MaxRateHoldsTheRateOfLiveReadings(Transport transport, Protocol protocol, string method)
    {
        const double rate = 20;
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        using var stopPublishing = new CancellationTokenSource();
        var publisher = PublishAtAboutOneKilohertzAsync(app, sensorId, stopPublishing.Token);

        var options = new SubscribeOptions { MaxRate = rate };
        var watch = Stopwatch.StartNew();
        var readings = method == SensorHubMethods.Subscribe
            ? await connection.Hub.ReadReadingsAsync(sensorId, options, 30, cts.Token)
            : (await connection.Hub.ReadBatchesAsync(sensorId, options, 30, cts.Token)).Readings;
        var elapsed = watch.Elapsed;
        await stopPublishing.CancelAsync();
        var published = await publisher;

        // 30 readings at 20 a second take at least 29 intervals of 50 ms on the server.
        Assert.True(elapsed >= TimeSpan.FromSeconds(29 / rate * 0.9), $"30 paced readings came in {elapsed.TotalMilliseconds:0} ms.");
        Assert.True(published > 30 * 5, $"Only {published} readings were published: the test did not load the feed.");
        Assert.True(readings.Zip(readings.Skip(1)).All(pair => pair.Second.Sequence > pair.First.Sequence), "Sequences went backwards.");
        // Sampling skips readings: the newest at each moment is sent, not the next in line.
        Assert.True(readings[^1].Sequence - readings[0].Sequence > readings.Count * 5, "The readings were not sampled.");
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task ReplayIsDeliveredWholeThenLiveIsPaced(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        var history = await app.Engine.PublishAsync(sensorId, 300);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var options = new SubscribeOptions { FromSequence = history[0].Sequence, MaxRate = 2 };
        var replay = await connection.Hub.ReadReadingsAsync(sensorId, options, 300, cts.Token);

        Assert.Equal(history, replay);
    }

    /// <summary>
    /// The case: after a replay of 300, devices publish 10 readings every 100 ms for 2.5 s. The replay covers
    /// what history held when the subscription attached; the burst is live and paced at 2 a second. The server spaces
    /// paced readings at least 500 ms apart, so none sent later than 2.7 s after the burst began can have arrived
    /// by then: at most 2 × 2.7 + 1, that is 6, whatever the machine's load.
    /// </summary>
    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task LiveReadingsAfterAReplayArePacedEvenWhenTheyArriveInABurst(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId();
        var history = await app.Engine.PublishAsync(sensorId, 300);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var options = new SubscribeOptions { FromSequence = history[0].Sequence, MaxRate = 2 };

        var replayed = 0;
        var live = new List<(Reading Reading, TimeSpan At)>();
        var burst = Stopwatch.StartNew();
        Task? publishing = null;
        try
        {
            await foreach (var reading in connection.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, options, leave.Token))
            {
                if (replayed < history.Count)
                {
                    Assert.Equal(history[replayed++], reading);
                    if (replayed == history.Count)
                    {
                        burst.Restart();
                        publishing = PublishBurstsAsync(app, sensorId, TimeSpan.FromSeconds(2.5));
                        // Listen a little past the bursts, then leave (which ends the server's generator).
                        leave.CancelAfter(TimeSpan.FromSeconds(3));
                    }
                    continue;
                }
                live.Add((reading, burst.Elapsed));
            }
        }
        catch (OperationCanceledException) when (!cts.IsCancellationRequested)
        {
        }
        await publishing!;

        var inWindow = live.Count(r => r.At <= TimeSpan.FromSeconds(2.7));
        Assert.True(inWindow <= 6, $"{inWindow} live readings arrived within 2.7 s at maxRate 2.");
        Assert.True(inWindow >= 1, "No live reading arrived.");
        Assert.True(live.Zip(live.Skip(1)).All(p => p.Second.Reading.Sequence > p.First.Reading.Sequence), "Sequences went backwards.");
    }

    private static Task PublishBurstsAsync(SensorHubApplication app, string sensorId, TimeSpan duration) =>
        Task.Run(async () =>
        {
            var started = Stopwatch.StartNew();
            while (started.Elapsed < duration)
            {
                await app.Engine.PublishAsync(sensorId, 10);
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);

    private static Task<int> PublishAtAboutOneKilohertzAsync(SensorHubApplication app, string sensorId, CancellationToken cancellationToken) =>
        Task.Run(async () =>
        {
            var published = 0;
            var started = Stopwatch.StartNew();
            while (!cancellationToken.IsCancellationRequested && started.Elapsed < Timeouts.Default)
            {
                for (; published < started.Elapsed.TotalMilliseconds; published++)
                    await app.Engine.PublishAsync(sensorId, published, DateTime.UtcNow, CancellationToken.None);
                await Task.Delay(5, CancellationToken.None);
            }
            return published;
        }, CancellationToken.None);
}
