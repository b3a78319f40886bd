using System.Diagnostics;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Time from a client's cancel to the server generator's finally. The driver notes the moment it cancels each
/// subscription; the server notes each finally (SensorHub through its meter); both read the machine's monotonic clock.
/// </summary>
internal static class CancellationScenario
{
    private const int PerConnection = 50;

    /// <summary>
    /// Every subscription cancelled at once. Ends are not labelled with their stream, so the k-th cancel is paired
    /// with the k-th finally; the last finally's time needs no pairing.
    /// </summary>
    public static async Task<Measure> AllAtOnceAsync(BenchTarget target, int subscriptions)
    {
        await using var streams = await OpenAsync(target, subscriptions);
        await target.ResetStreamEndsAsync();
        var cancelled = new long[subscriptions];
        for (var i = 0; i < subscriptions; i++)
        {
            cancelled[i] = Stopwatch.GetTimestamp();
            streams.Tokens[i].Cancel();
        }
        await Clients.WaitForStreamsAsync(target, streams.Before, TimeSpan.FromSeconds(60), active => active <= streams.Before);
        var ends = await target.StreamEndsAsync();
        Array.Sort(ends);
        var latencies = cancelled.Zip(ends, (c, e) => Ms(e - c)).Order().ToArray();
        return Measure.Of(
            ("p50 ms cancel to finally", Percentile(latencies, 50)),
            ("p99 ms cancel to finally", Percentile(latencies, 99)),
            ("ms until the last finally", ends.Length == subscriptions ? Ms(ends[^1] - cancelled[0]) : double.NaN));
    }

    /// <summary>Subscriptions cancelled one after another, each once the previous one's finally has run: exact pairs.</summary>
    public static async Task<Measure> OneByOneAsync(BenchTarget target, int subscriptions)
    {
        await using var streams = await OpenAsync(target, subscriptions);
        await target.ResetStreamEndsAsync();
        var latencies = new double[subscriptions];
        for (var i = 0; i < subscriptions; i++)
        {
            var cancelled = Stopwatch.GetTimestamp();
            streams.Tokens[i].Cancel();
            long[] ends;
            var waited = Stopwatch.StartNew();
            while ((ends = await target.StreamEndsAsync()).Length <= i)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(30))
                    throw new TimeoutException($"{target.Name}: stream {i} did not end within 30 s of its cancel");
            }
            latencies[i] = Ms(ends[i] - cancelled);
        }
        Array.Sort(latencies);
        return Measure.Of(
            ("p50 ms cancel to finally", Percentile(latencies, 50)),
            ("p99 ms cancel to finally", Percentile(latencies, 99)));
    }

    private static async Task<OpenStreams> OpenAsync(BenchTarget target, int subscriptions)
    {
        var sensor = Clients.NewSensor("cancel");
        await target.RegisterSensorAsync(sensor);
        var before = await target.ActiveStreamsAsync();
        var connections = await Clients.ConnectManyAsync(target, (subscriptions + PerConnection - 1) / PerConnection, Protocol.MessagePack);
        var tokens = Enumerable.Range(0, subscriptions).Select(_ => new CancellationTokenSource()).ToArray();
        var consumers = tokens.Select((cts, i) =>
            Clients.ConsumeAsync(target, connections[i / PerConnection], SensorHubMethods.Subscribe, group: false, sensor, _ => { }, cts.Token)).ToArray();
        await Clients.WaitForStreamsAsync(target, before + subscriptions, TimeSpan.FromSeconds(60));
        return new OpenStreams(before, connections, tokens, consumers);
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static double Percentile(double[] sorted, double percentile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1)];

    private sealed record OpenStreams(
        long Before, Microsoft.AspNetCore.SignalR.Client.HubConnection[] Connections, CancellationTokenSource[] Tokens, Task[] Consumers)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var cts in Tokens)
                await cts.CancelAsync();
            await Task.WhenAll(Consumers).WaitAsync(TimeSpan.FromSeconds(30));
            await Clients.DisposeAllAsync(Connections);
            foreach (var cts in Tokens)
                cts.Dispose();
        }
    }
}
