using System.Diagnostics;
using HdrHistogram;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Bench;

/// <summary>One measurement of one scenario on one target.</summary>
internal sealed record Measure(Dictionary<string, double> Values);

/// <summary>A fan-out case; <see cref="BaselineGroup"/> compares with the baseline's group broadcast instead of its stream.</summary>
internal sealed record FanOutCase(int Subscribers, bool Heavy, Protocol Protocol, string Method, bool BaselineGroup = false)
{
    public override string ToString() =>
        $"fan-out N={Subscribers} {(Heavy ? "heavy" : "light")} {Protocol} {Method} vs baseline {(BaselineGroup ? "group" : "stream")}";
}

/// <summary>
/// The scenarios. Server and clients share this process (and its 2 cores): the CPU figure is the
/// whole process, server and load generator together, as a share of all cores.
/// </summary>
internal static class Scenarios
{
    private static int s_sensorCounter;

    private static string NewSensor(string kind) => $"bench/{kind}-{Interlocked.Increment(ref s_sensorCounter)}";

    private static async Task<HubConnection[]> ConnectManyAsync(Target target, int count, Protocol protocol, CancellationToken cancellationToken)
    {
        var connections = new HubConnection[count];
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try { connections[i] = await target.ConnectAsync(protocol, cancellationToken: cancellationToken); }
            finally { gate.Release(); }
        }));
        return connections;
    }

    private static Task DisposeAllAsync(IEnumerable<HubConnection> connections) =>
        Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));

    private static async Task WaitForStreamsAsync(Target target, long expected, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (await target.ActiveStreamsAsync() < expected)
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{target.Name}: {await target.ActiveStreamsAsync()} of {expected} streams active after {timeout}");
            await Task.Delay(5);
        }
    }

    /// <summary>Starts a consumer of one subscription; the baseline's counterpart of both SensorHub methods is its stream, or its group.</summary>
    private static Task ConsumeAsync(Target target, HubConnection connection, string method, string sensorId, Action<Reading> record, CancellationToken cancellationToken)
        => ConsumeAsync(target, connection, method, group: false, sensorId, record, cancellationToken);

    private static Task ConsumeAsync(Target target, HubConnection connection, string method, bool group, string sensorId, Action<Reading> record, CancellationToken cancellationToken)
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
                {
                    await foreach (var r in connection.StreamAsync<Reading>("Subscribe", sensorId, cancellationToken))
                        record(r);
                }
                else if (method == SensorHubMethods.SubscribeBatches)
                {
                    await foreach (var batch in connection.StreamAsync<Reading[]>(method, sensorId, (SubscribeOptions?)null, cancellationToken))
                        foreach (var r in batch)
                            record(r);
                }
                else
                {
                    await foreach (var r in connection.StreamAsync<Reading>(method, sensorId, (SubscribeOptions?)null, cancellationToken))
                        record(r);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
    }

    public static async Task<Measure> FanOutAsync(Target target, FanOutCase c, TimeSpan warmup, TimeSpan duration)
    {
        var sensor = NewSensor("fanout");
        await target.RegisterSensorAsync(sensor);
        var histogram = new LongConcurrentHistogram(1, 600_000_000, 3);
        long delivered = 0;
        var measuring = 0;
        var ticksPerMicro = Stopwatch.Frequency / 1_000_000.0;
        void Record(Reading r)
        {
            if (Volatile.Read(ref measuring) == 0)
                return;
            Interlocked.Increment(ref delivered);
            var micros = (long)((Stopwatch.GetTimestamp() - r.Value) / ticksPerMicro);
            histogram.RecordValue(Math.Clamp(micros, 1, 600_000_000));
        }

        using var stop = new CancellationTokenSource();
        var streamsBefore = await target.ActiveStreamsAsync();
        var connections = await ConnectManyAsync(target, c.Subscribers, c.Protocol, CancellationToken.None);
        var group = target.IsBaseline && c.BaselineGroup;
        var consumers = connections.Select(conn => ConsumeAsync(target, conn, c.Method, group, sensor, Record, stop.Token)).ToArray();
        if (group)
            await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
        else
            await WaitForStreamsAsync(target, streamsBefore + c.Subscribers, TimeSpan.FromSeconds(60));

        // One publisher: light = 20,000 deliveries/s in all; heavy = as fast as it goes, yielding now and then.
        var rate = 20_000.0 / c.Subscribers;
        long published = 0;
        var publisher = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                if (c.Heavy)
                {
                    for (var i = 0; i < 64; i++)
                        await target.PublishAsync(sensor, group);
                    published += 64;
                    await Task.Yield();
                }
                else
                {
                    var due = (long)(clock.Elapsed.TotalSeconds * rate);
                    while (published < due)
                    {
                        await target.PublishAsync(sensor, group);
                        published++;
                    }
                    await Task.Delay(1, CancellationToken.None);
                }
            }
        }, CancellationToken.None);

        await Task.Delay(warmup);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        Volatile.Write(ref measuring, 1);
        await Task.Delay(duration);
        Volatile.Write(ref measuring, 0);
        var elapsed = wall.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds / elapsed / Environment.ProcessorCount * 100;

        await stop.CancelAsync();
        await publisher;
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(30));
        await DisposeAllAsync(connections);

        return new Measure(new()
        {
            ["readings/s"] = Interlocked.Read(ref delivered) / elapsed,
            ["p50 ms"] = histogram.GetValueAtPercentile(50) / 1000.0,
            ["p99 ms"] = histogram.GetValueAtPercentile(99) / 1000.0,
            ["p99.9 ms"] = histogram.GetValueAtPercentile(99.9) / 1000.0,
            ["process CPU %"] = cpu,
        });
    }

    /// <summary>Subscriptions disposed at once: time until the server's active-stream count is back to its baseline.</summary>
    public static async Task<Measure> CancellationAsync(Target target, int subscriptions)
    {
        const int PerConnection = 50;
        var sensor = NewSensor("cancel");
        await target.RegisterSensorAsync(sensor);
        var before = await target.ActiveStreamsAsync();
        var connections = await ConnectManyAsync(target, (subscriptions + PerConnection - 1) / PerConnection, Protocol.MessagePack, CancellationToken.None);
        var tokens = Enumerable.Range(0, subscriptions).Select(_ => new CancellationTokenSource()).ToArray();
        var consumers = tokens.Select((cts, i) => ConsumeAsync(target, connections[i / PerConnection], SensorHubMethods.Subscribe, sensor, _ => { }, cts.Token)).ToArray();
        await WaitForStreamsAsync(target, before + subscriptions, TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        foreach (var cts in tokens)
            cts.Cancel();
        var timedOut = false;
        while (await target.ActiveStreamsAsync() > before)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) { timedOut = true; break; }
            await Task.Delay(1);
        }
        var ms = clock.Elapsed.TotalMilliseconds;
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(30));
        await DisposeAllAsync(connections);
        foreach (var cts in tokens)
            cts.Dispose();
        return new Measure(new() { ["ms to activeStreams baseline"] = timedOut ? double.NaN : ms });
    }

    /// <summary>Idle connections, each with one open subscription to a quiet sensor: managed heap per connection after a forced GC.</summary>
    public static async Task<Measure> IdleAsync(Target target, int count)
    {
        var sensor = NewSensor("idle");
        await target.RegisterSensorAsync(sensor);
        var before = await target.ActiveStreamsAsync();
        var heap0 = ForcedGcHeap();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var ws0 = process.WorkingSet64;
        using var stop = new CancellationTokenSource();
        var connections = await ConnectManyAsync(target, count, Protocol.MessagePack, CancellationToken.None);
        var consumers = connections.Select(conn => ConsumeAsync(target, conn, SensorHubMethods.Subscribe, sensor, _ => { }, stop.Token)).ToArray();
        await WaitForStreamsAsync(target, before + count, TimeSpan.FromSeconds(120));
        await Task.Delay(200);
        var heap1 = ForcedGcHeap();
        process.Refresh();
        var ws1 = process.WorkingSet64;
        await stop.CancelAsync();
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
        await DisposeAllAsync(connections);
        return new Measure(new()
        {
            ["heap KB/conn"] = (heap1 - heap0) / 1024.0 / count,
            ["working set KB/conn"] = (ws1 - ws0) / 1024.0 / count,
        });
    }

    private static long ForcedGcHeap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>An upload of <paramref name="totalBytes"/> in chunks of <paramref name="chunkBytes"/> over MessagePack.</summary>
    public static async Task<Measure> UploadAsync(Target target, int chunkBytes, long totalBytes)
    {
        var token = target.IsBaseline ? null : await target.DevTokenAsync("operator");
        await using var connection = await target.ConnectAsync(Protocol.MessagePack, token);
        var chunk = new byte[chunkBytes];
        Random.Shared.NextBytes(chunk);
        var count = (int)(totalBytes / chunkBytes);
        async IAsyncEnumerable<byte[]> Chunks()
        {
            for (var i = 0; i < count; i++)
            {
                yield return chunk;
                if ((i & 7) == 7)
                    await Task.Yield();
            }
        }
        var clock = Stopwatch.StartNew();
        long bytes;
        if (target.IsBaseline)
        {
            bytes = await connection.InvokeAsync<long>("Upload", Chunks());
        }
        else
        {
            var status = await connection.InvokeAsync<UploadStatus>(SensorHubMethods.BeginUpload,
                new UploadRequest { Name = "bench.bin", ContentType = "application/octet-stream", TotalBytes = (long)count * chunkBytes });
            var result = await connection.InvokeAsync<UploadResult>(SensorHubMethods.Upload, status.UploadId, 0L, Chunks());
            bytes = result.Bytes;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (bytes != (long)count * chunkBytes)
            throw new InvalidOperationException($"{target.Name}: uploaded {bytes} of {(long)count * chunkBytes} bytes");
        return new Measure(new() { ["MB/s"] = bytes / 1e6 / seconds });
    }
}
