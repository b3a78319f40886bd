using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;

namespace SensorHub.Bench.Driving;

/// <summary>What the subscribers of one run received while recording, and what it cost their process.</summary>
/// <param name="Delivered">Readings received, a batch counting its readings, over every subscriber.</param>
/// <param name="Seconds">Wall time from start to stop of recording.</param>
/// <param name="P50Ms">Publish-to-receive latency, ms; NaN when nothing arrived (likewise the others).</param>
/// <param name="CpuSeconds">CPU time (user + system) of the subscribers' process while recording.</param>
/// <param name="Missed">Readings the subscribers never received: the jumps in <c>sequence</c> on their streams while recording.</param>
internal sealed record Delivery(long Delivered, double Seconds, double P50Ms, double P99Ms, double P999Ms, double CpuSeconds, long Missed)
{
    /// <summary>Of the readings due to the subscribers while recording, the share they never received, in percent.</summary>
    public double MissedPercent => Delivered + Missed == 0 ? double.NaN : 100.0 * Missed / (Delivered + Missed);

    /// <summary>The process's CPU as a share of all the machine's cores, in percent.</summary>
    public double CpuPercent => DeliveryWindow.Share(CpuSeconds, Seconds);
}

/// <summary>
/// The subscribers of one run, connected and subscribed to one sensor once made: .NET clients in this process
/// (<see cref="DotNetSubscribers"/>) or the JavaScript load generator in a process of its own (<see cref="JsSubscribers"/>).
/// Disposing closes them all.
/// </summary>
internal interface ISubscribers : IAsyncDisposable
{
    /// <summary>
    /// Records what arrives from <paramref name="from"/> until <paramref name="to"/> (<see cref="Stopwatch.GetTimestamp"/>
    /// of this machine). Returns at once; the window is given ahead so that a subscriber process busy for seconds still
    /// counts exactly what it took in during the window.
    /// </summary>
    Task StartAsync(long from, long to);

    /// <summary>Stops recording and ends the subscriptions.</summary>
    Task<Delivery> StopAsync();
}

/// <summary>N .NET clients in the driver, one connection and one subscription each, recorded by a <see cref="LatencyRecorder"/>.</summary>
internal sealed class DotNetSubscribers : ISubscribers
{
    private readonly HubConnection[] _connections;
    private readonly CancellationTokenSource _stop;
    private readonly LatencyRecorder _latency;
    private readonly Task[] _consumers;
    private readonly Stopwatch _wall = new();
    private double _cpu0;

    private DotNetSubscribers(HubConnection[] connections, CancellationTokenSource stop, LatencyRecorder latency, Task[] consumers)
    {
        _connections = connections;
        _stop = stop;
        _latency = latency;
        _consumers = consumers;
    }

    /// <summary>
    /// Connects <paramref name="count"/> clients and subscribes each (see <see cref="Clients.ConsumeAsync"/>); returns
    /// once the server counts every stream (or, for the baseline's group, once every client has joined).
    /// </summary>
    public static async Task<DotNetSubscribers> ConnectAsync(BenchTarget target, int count, Protocol protocol, string method, bool group, string sensorId) =>
        await ConnectAsync(target, count, protocol, group ? null : 1,
            (c, latency, token) => [Clients.ConsumeAsync(target, c, method, group, sensorId, latency.NewConsumer(), token)]);

    /// <summary>
    /// Connects <paramref name="count"/> clients and starts <paramref name="consume"/>'s consumers on each; returns once the
    /// server counts <paramref name="streamsPerConnection"/> more streams per client (or, when it is
    /// <see langword="null"/>, once every consumer's task has ended: the baseline's group join).
    /// </summary>
    public static async Task<DotNetSubscribers> ConnectAsync(
        BenchTarget target, int count, Protocol protocol, int? streamsPerConnection, Func<HubConnection, LatencyRecorder, CancellationToken, IEnumerable<Task>> consume)
    {
        var streamsBefore = await target.ActiveStreamsAsync();
        var connections = await Clients.ConnectManyAsync(target, count, protocol);
        var latency = new LatencyRecorder();
        var stop = new CancellationTokenSource();
        var consumers = connections.SelectMany(c => consume(c, latency, stop.Token)).ToArray();
        var subscribers = new DotNetSubscribers(connections, stop, latency, consumers);
        try
        {
            if (streamsPerConnection is not { } perConnection)
                await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
            else
                await Clients.WaitForStreamsAsync(target, streamsBefore + (long)count * perConnection, TimeSpan.FromSeconds(60));
            return subscribers;
        }
        catch
        {
            await subscribers.DisposeAsync();
            throw;
        }
    }

    /// <summary>In this process recording starts on time: it waits until <paramref name="from"/> and records until <see cref="StopAsync"/>.</summary>
    public async Task StartAsync(long from, long to)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), from);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        _cpu0 = Clients.OwnCpuSeconds();
        _wall.Restart();
        _latency.Start();
    }

    public async Task<Delivery> StopAsync()
    {
        _latency.Stop();
        var seconds = _wall.Elapsed.TotalSeconds;
        var cpu = Clients.OwnCpuSeconds() - _cpu0;
        // Each consumer's histogram is read once it has finished.
        await _stop.CancelAsync();
        await Task.WhenAll(_consumers).WaitAsync(TimeSpan.FromSeconds(30));
        return new Delivery(
            _latency.Delivered, seconds, _latency.PercentileMs(50), _latency.PercentileMs(99), _latency.PercentileMs(99.9), cpu, _latency.Missed);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Clients.DisposeAllAsync(_connections);
        _stop.Dispose();
        // The next run starts from a collected heap and closed sockets, not from this run's leftovers.
        GC.Collect();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
    }
}
