using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Bench.Serving;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>The load generator's side: many connections, and consumers of one subscription each.</summary>
internal static class Clients
{
    private const int YieldEvery = 256;
    private static int s_sensorCounter;

    public static string NewSensor(string kind) => $"bench/{kind}-{Interlocked.Increment(ref s_sensorCounter)}";

    public static async Task<HubConnection[]> ConnectManyAsync(BenchTarget target, int count, Protocol protocol)
    {
        var connections = new HubConnection[count];
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try { connections[i] = await target.ConnectAsync(protocol); }
            finally { gate.Release(); }
        }));
        return connections;
    }

    public static Task DisposeAllAsync(IEnumerable<HubConnection> connections) =>
        Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));

    public static async Task WaitForStreamsAsync(BenchTarget target, long expected, TimeSpan timeout, Func<long, bool>? done = null)
    {
        done ??= active => active >= expected;
        var deadline = Stopwatch.StartNew();
        long active;
        while (!done(active = await target.ActiveStreamsAsync()))
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{target.Name}: {active} streams active after {timeout}, waiting for {expected}");
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// Starts one consumer. SensorHub: <c>Subscribe</c> or <c>SubscribeBatches</c>; baseline: its stream, or its group
    /// when <paramref name="group"/> (then the task ends once joined, and readings arrive through the handler).
    /// </summary>
    public static Task ConsumeAsync(
        BenchTarget target, HubConnection connection, string method, bool group, string sensorId, Action<Reading> record, CancellationToken cancellationToken)
    {
        if (target.IsBaseline && group)
        {
            connection.On(BaselineHub.ReadingMethod, record);
            return connection.InvokeAsync("Join", sensorId, cancellationToken);
        }
        return Task.Run(async () =>
        {
            try
            {
                if (target.IsBaseline)
                    await ReadAsync(connection.StreamAsync<Reading>("Subscribe", sensorId, cancellationToken), record);
                else if (method == SensorHubMethods.SubscribeBatches)
                    await ReadAsync(connection.StreamAsync<Reading[]>(method, sensorId, (SubscribeOptions?)null, cancellationToken), record);
                else
                    await ReadAsync(connection.StreamAsync<Reading>(method, sensorId, (SubscribeOptions?)null, cancellationToken), record);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
    }

    /// <summary>One <c>SubscribeMany</c> stream on <paramref name="pattern"/> (SensorHub only), every reading of every batch recorded.</summary>
    public static Task ConsumeManyAsync(HubConnection connection, string pattern, SubscribeManyOptions? options, Action<Reading> record, CancellationToken cancellationToken) =>
        Task.Run(async () =>
        {
            try
            {
                await ReadAsync(connection.StreamAsync<Reading[]>(SensorHubMethods.SubscribeMany, pattern, options, cancellationToken), record);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);

    /// <summary>
    /// Reads a stream to its end. The .NET client buffers a stream's items without bound, so a consumer that is behind
    /// always finds its next item ready and would never give its thread back; it yields now and then so that the other
    /// consumers, the receive loops and the driver's own timers keep running.
    /// </summary>
    private static async Task ReadAsync(IAsyncEnumerable<Reading> stream, Action<Reading> record)
    {
        var items = 0;
        await foreach (var reading in stream)
        {
            record(reading);
            if (++items % YieldEvery == 0)
                await Task.Yield();
        }
    }

    private static async Task ReadAsync(IAsyncEnumerable<Reading[]> stream, Action<Reading> record)
    {
        var items = 0;
        await foreach (var batch in stream)
        {
            foreach (var reading in batch)
                record(reading);
            if (++items % YieldEvery == 0)
                await Task.Yield();
        }
    }

    /// <summary>This process's CPU time: the load generator's own share.</summary>
    public static double OwnCpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
