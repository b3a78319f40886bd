using System.Diagnostics;
using SensorHub.Bench.Serving;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>A fan-out case; <see cref="BaselineGroup"/> compares with the baseline's group broadcast instead of its stream.</summary>
internal sealed record FanOutCase(int Subscribers, bool Heavy, Protocol Protocol, string Method, bool BaselineGroup = false)
{
    public override string ToString() =>
        $"fan-out N={Subscribers} {(Heavy ? "heavy" : "light")} {Protocol} {Method} vs baseline {(BaselineGroup ? "group" : "stream")}";
}

/// <summary>
/// One publisher inside the server, N subscribers on one sensor, one connection each. Light: 20,000 deliveries/s in
/// all; heavy: as fast as the publisher goes. Readings are counted one by one (a batch counts its readings).
/// </summary>
internal static class FanOutScenario
{
    public const string ReadingsPerSecond = "readings/s";

    public static async Task<Measure> RunAsync(BenchTarget target, FanOutCase c, TimeSpan warmup, TimeSpan duration)
    {
        var sensor = Clients.NewSensor("fanout");
        await target.RegisterSensorAsync(sensor);
        var latency = new LatencyRecorder();
        using var stop = new CancellationTokenSource();
        var streamsBefore = await target.ActiveStreamsAsync();
        var connections = await Clients.ConnectManyAsync(target, c.Subscribers, c.Protocol);
        var group = target.IsBaseline && c.BaselineGroup;
        double elapsed, serverCpu, ownCpu;
        ServerSample server1;
        try
        {
            var consumers = connections.Select(conn => Clients.ConsumeAsync(target, conn, c.Method, group, sensor, latency.NewConsumer(), stop.Token)).ToArray();
            if (group)
                await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
            else
                await Clients.WaitForStreamsAsync(target, streamsBefore + c.Subscribers, TimeSpan.FromSeconds(60));

            await target.StartPublisherAsync(sensor, c.Heavy ? 0 : 20_000.0 / c.Subscribers, group, warmup + duration + TimeSpan.FromSeconds(1));
            await Task.Delay(warmup);
            var server0 = await target.SampleAsync();
            await target.ResetPeaksAsync();
            var own0 = Clients.OwnCpuSeconds();
            var wall = Stopwatch.StartNew();
            latency.Start();
            await Task.Delay(duration);
            latency.Stop();
            elapsed = wall.Elapsed.TotalSeconds;
            var own1 = Clients.OwnCpuSeconds();
            server1 = await target.SampleAsync();
            (serverCpu, ownCpu) = (server1.CpuSeconds - server0.CpuSeconds, own1 - own0);

            await target.StopPublisherAsync();
            await stop.CancelAsync();
            await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await stop.CancelAsync();
            await Clients.DisposeAllAsync(connections);
        }

        double Share(double seconds) => seconds / elapsed / Environment.ProcessorCount * 100;
        return Measure.Of(
            (ReadingsPerSecond, latency.Delivered / elapsed),
            ("p50 ms", latency.PercentileMs(50)),
            ("p99 ms", latency.PercentileMs(99)),
            ("p99.9 ms", latency.PercentileMs(99.9)),
            ("server CPU %", Share(serverCpu)),
            ("load generator CPU %", Share(ownCpu)),
            ("server peak working set MB", server1.PeakWorkingSetBytes / 1e6));
    }
}
