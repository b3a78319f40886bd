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
    private const double StalledBelowPercent = 10;
    private const double StalledBelowReadingsPerSubscriber = 50;

    public static async Task<Measure> RunAsync(BenchTarget target, FanOutCase c, TimeSpan warmup, TimeSpan duration)
    {
        var sensor = Clients.NewSensor("fanout");
        await target.RegisterSensorAsync(sensor);
        var latency = new LatencyRecorder();
        using var stop = new CancellationTokenSource();
        var streamsBefore = await target.ActiveStreamsAsync();
        var connections = await Clients.ConnectManyAsync(target, c.Subscribers, c.Protocol);
        var group = target.IsBaseline && c.BaselineGroup;
        double elapsed, serverCpu, serverSeconds, ownCpu;
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
            serverSeconds = (double)(server1.Timestamp - server0.Timestamp) / Stopwatch.Frequency;

            await target.StopPublisherAsync();
            await stop.CancelAsync();
            await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await stop.CancelAsync();
            await Clients.DisposeAllAsync(connections);
            // The next run starts from a collected heap and closed sockets, not from this run's leftovers.
            GC.Collect();
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        static double Share(double cpuSeconds, double wallSeconds) => cpuSeconds / wallSeconds / Environment.ProcessorCount * 100;
        // A heavy run in which the load generator sat idle and hardly a reading arrived did not measure the server: the
        // driver's connections had stopped reading (seen on 1,000 connections right after another heavy run). An idle
        // driver alone is no stall: the baseline's group broadcast can be server-bound at a few percent of driver CPU.
        var perSubscriberPerSecond = latency.Delivered / elapsed / c.Subscribers;
        if (c.Heavy && Share(ownCpu, elapsed) < StalledBelowPercent && perSubscriberPerSecond < StalledBelowReadingsPerSubscriber)
        {
            throw new StalledRunException(
                $"the load generator used {Share(ownCpu, elapsed):F1}% CPU while the publisher ran flat out; {latency.Delivered} readings arrived");
        }
        return Measure.Of(
            (ReadingsPerSecond, latency.Delivered / elapsed),
            ("p50 ms", latency.PercentileMs(50)),
            ("p99 ms", latency.PercentileMs(99)),
            ("p99.9 ms", latency.PercentileMs(99.9)),
            ("server CPU %", Share(serverCpu, serverSeconds)),
            ("load generator CPU %", Share(ownCpu, elapsed)),
            ("server peak working set MB", server1.PeakWorkingSetBytes / 1e6));
    }
}

/// <summary>A run that measured the load generator's stall, not the server; the round is run again.</summary>
internal sealed class StalledRunException(string message) : Exception(message);
