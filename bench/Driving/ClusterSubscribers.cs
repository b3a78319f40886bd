using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// The driver's .NET subscribers of one sensor spread over several nodes, one connection and one <c>Subscribe</c>
/// stream each, recorded by group: the subscribers on the node the device publishes to ("same node") apart from the
/// others ("cross node"), so that a run tells both latencies and what crossed nodes.
/// </summary>
internal sealed class ClusterSubscribers : IAsyncDisposable
{
    public const string SameNode = "same node";
    public const string CrossNode = "cross node";

    private readonly List<HubConnection> _connections = [];
    private readonly List<Task> _consumers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, LatencyRecorder> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Stopwatch _wall = new();
    private double _cpu0;

    /// <summary>How many subscribers each group has.</summary>
    public IReadOnlyDictionary<string, int> Counts => _counts;

    /// <summary>
    /// Connects <c>count</c> subscribers to each node given (at most 32 connecting at once), subscribes each to
    /// <paramref name="sensorId"/>, and returns once every node counts its streams.
    /// </summary>
    public static async Task<ClusterSubscribers> ConnectAsync(IEnumerable<(string Group, BenchTarget Node, int Count)> placement, Protocol protocol, string sensorId)
    {
        var subscribers = new ClusterSubscribers();
        try
        {
            foreach (var (group, node, count) in placement)
            {
                if (count == 0)
                    continue;
                if (!subscribers._groups.TryGetValue(group, out var recorder))
                    subscribers._groups[group] = recorder = new LatencyRecorder();
                subscribers._counts[group] = subscribers._counts.GetValueOrDefault(group) + count;
                var before = await node.ActiveStreamsAsync();
                var connections = await Clients.ConnectManyAsync(node, count, protocol);
                subscribers._connections.AddRange(connections);
                foreach (var connection in connections)
                    subscribers._consumers.Add(Clients.ConsumeAsync(node, connection, SensorHubMethods.Subscribe, group: false, sensorId, recorder.NewConsumer(), subscribers._stop.Token));
                await Clients.WaitForStreamsAsync(node, before + count, TimeSpan.FromSeconds(60));
            }
            return subscribers;
        }
        catch
        {
            await subscribers.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts recording, in every group at once.</summary>
    public void Start()
    {
        _cpu0 = Clients.OwnCpuSeconds();
        _wall.Restart();
        foreach (var recorder in _groups.Values)
            recorder.Start();
    }

    /// <summary>Stops recording, ends the streams and returns what each group received (and the driver's CPU, the same for all).</summary>
    public async Task<IReadOnlyDictionary<string, Delivery>> StopAsync()
    {
        foreach (var recorder in _groups.Values)
            recorder.Stop();
        var seconds = _wall.Elapsed.TotalSeconds;
        var cpu = Clients.OwnCpuSeconds() - _cpu0;
        await _stop.CancelAsync();
        await Task.WhenAll(_consumers).WaitAsync(TimeSpan.FromSeconds(30));
        return _groups.ToDictionary(
            g => g.Key,
            g => new Delivery(g.Value.Delivered, seconds, g.Value.PercentileMs(50), g.Value.PercentileMs(99), g.Value.PercentileMs(99.9), cpu, g.Value.Missed),
            StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Clients.DisposeAllAsync(_connections);
        _stop.Dispose();
        // The next run starts from a collected heap and closed sockets.
        GC.Collect();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
    }
}
