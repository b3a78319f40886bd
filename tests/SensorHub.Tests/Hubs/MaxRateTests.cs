using System.Diagnostics;
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
