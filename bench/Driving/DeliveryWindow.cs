using System.Diagnostics;

namespace SensorHub.Bench.Driving;

/// <summary>
/// The measured window of a delivery run (fan-out and path alike): the server sampled at both ends, its peaks reset at
/// the start, the subscribers recording in between; and the figures every such run reports.
/// </summary>
internal static class DeliveryWindow
{
    public const string ReadingsPerSecond = "readings/s";
    public const string P99 = "p99 ms";
    private const double StalledBelowPercent = 10;
    private const double StalledBelowReadingsPerSubscriber = 50;
    private static readonly TimeSpan s_lead = TimeSpan.FromMilliseconds(300);

    private static Task DelayUntil(long timestamp)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return wait > TimeSpan.Zero ? Task.Delay(wait) : Task.CompletedTask;
    }

    /// <summary>CPU time over a wall time as a share of all the machine's cores, in percent.</summary>
    public static double Share(double cpuSeconds, double wallSeconds) => cpuSeconds / wallSeconds / Environment.ProcessorCount * 100;

    /// <summary>
    /// Records for <paramref name="duration"/>, starting <paramref name="lead"/> from now (default 0.3 s), and returns readings/s, latency percentiles, the server's CPU and peak
    /// working set, and the subscribers' process's CPU.
    /// </summary>
    /// <exception cref="StalledRunException">A heavy run in which the subscribers' process sat idle and hardly a reading arrived.</exception>
    public static async Task<(string Metric, double Value)[]> MeasureAsync(
        BenchTarget target, ISubscribers subscribers, int subscriberCount, bool heavy, TimeSpan duration, TimeSpan? lead = null)
    {
        // The window is set ahead, so that a JS load generator that is seconds behind (heavy runs) still records exactly
        // what it takes in during the window (each message judged by when its event loop handles it), as long as it
        // reads the command before the window opens; the path scenario gives it the whole warm-up for that.
        var from = Stopwatch.GetTimestamp() + (long)((lead ?? s_lead).TotalSeconds * Stopwatch.Frequency);
        var to = from + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var starting = subscribers.StartAsync(from, to);
        await DelayUntil(from);
        var server0 = await target.SampleAsync();
        await target.ResetPeaksAsync();
        await starting;
        await DelayUntil(to);
        // The server's interval ends before the subscribers stop: tearing their streams down is not part of it.
        var server1 = await target.SampleAsync();
        var delivery = await subscribers.StopAsync();
        var serverSeconds = (double)(server1.Timestamp - server0.Timestamp) / Stopwatch.Frequency;

        // A heavy run in which the load generator sat idle and hardly a reading arrived did not measure the server: the
        // driver's connections had stopped reading (seen on 1,000 connections right after another heavy run). An idle
        // driver alone is no stall: the baseline's group broadcast can be server-bound at a few percent of driver CPU.
        var perSubscriberPerSecond = delivery.Delivered / delivery.Seconds / subscriberCount;
        if (heavy && delivery.CpuPercent < StalledBelowPercent && perSubscriberPerSecond < StalledBelowReadingsPerSubscriber)
        {
            throw new StalledRunException(
                $"the load generator used {delivery.CpuPercent:F1}% CPU while the publisher ran at a heavy rate; {delivery.Delivered} readings arrived");
        }
        return
        [
            (ReadingsPerSecond, delivery.Delivered / delivery.Seconds),
            ("p50 ms", delivery.P50Ms),
            (P99, delivery.P99Ms),
            ("p99.9 ms", delivery.P999Ms),
            ("server CPU %", Share(server1.CpuSeconds - server0.CpuSeconds, serverSeconds)),
            ("load generator CPU %", delivery.CpuPercent),
            // What a server drops for a subscriber that cannot keep up shows here, and its latency with it.
            ("readings missed %", delivery.MissedPercent),
            ("server peak working set MB", server1.PeakWorkingSetBytes / 1e6),
        ];
    }
}

/// <summary>A run that measured the load generator's stall, not the server; the round is run again.</summary>
internal sealed class StalledRunException(string message) : Exception(message);
