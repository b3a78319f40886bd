using System.Diagnostics;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// SensorHub against itself: live delivery latency on one sensor (1,000 readings/s, one subscriber) while a CSV upload
/// is received, parsed and published to another sensor, and over a window of the same length without it.
/// </summary>
internal static class ResponsivenessScenario
{
    private const double Rate = 1_000;

    public static async Task<Measure> RunAsync(BenchTarget sensorHub, long csvBytes, TimeSpan? window)
    {
        var sensor = Clients.NewSensor("live");
        await sensorHub.RegisterSensorAsync(sensor);
        var latency = new LatencyRecorder();
        using var stop = new CancellationTokenSource();
        var before = await sensorHub.ActiveStreamsAsync();
        await using var subscriber = await sensorHub.ConnectAsync(Protocol.MessagePack);
        var consumer = Clients.ConsumeAsync(sensorHub, subscriber, SensorHubMethods.Subscribe, group: false, sensor, latency.NewConsumer(), stop.Token);
        await Clients.WaitForStreamsAsync(sensorHub, before + 1, TimeSpan.FromSeconds(30));
        await sensorHub.StartPublisherAsync(sensor, Rate, group: false, stopAfter: TimeSpan.FromMinutes(10));
        await Task.Delay(300);

        var clock = Stopwatch.StartNew();
        latency.Start();
        if (window is { } length)
        {
            await Task.Delay(length);
        }
        else
        {
            var chunk = UploadScenario.CsvChunk(Clients.NewSensor("csv"), 1024 * 1024);
            await using var uploader = await sensorHub.ConnectAsync(Protocol.MessagePack, await sensorHub.DevTokenAsync("operator"));
            var result = await UploadScenario.UploadAsync(uploader, "bench.csv", "text/csv", chunk, (int)Math.Max(1, csvBytes / chunk.Length));
            if (result.Csv is not { Rejected: 0 })
                throw new InvalidOperationException($"the CSV upload rejected rows: {result.Csv?.FirstRejections.FirstOrDefault()?.Reason}");
        }
        latency.Stop();
        var seconds = clock.Elapsed.TotalSeconds;

        await sensorHub.StopPublisherAsync();
        await stop.CancelAsync();
        await consumer.WaitAsync(TimeSpan.FromSeconds(30));
        return Measure.Of(
            ("window s", seconds),
            ("live readings/s", latency.Delivered / seconds),
            ("p50 ms", latency.PercentileMs(50)),
            ("p99 ms", latency.PercentileMs(99)),
            ("p99.9 ms", latency.PercentileMs(99.9)));
    }
}
