using Microsoft.Extensions.DependencyInjection;
using SensorHub.Server.Redis;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// Several SensorHub nodes on one <see cref="RedisServer"/>, as one cluster: each a host of its own (its own services,
/// its own Redis connections), all under one key prefix, one signing key and one shared data folder. A test makes as
/// many as it needs with <see cref="StartNodeAsync"/>; they are disposed (stopped) with the cluster.
/// </summary>
public sealed class RedisNodes : IAsyncDisposable
{
    private readonly List<SensorHubApplication> _nodes = [];
    private readonly SharedDataFolder _data = new();

    public RedisNodes(RedisServer redis, Transport transport = Transport.TestServer, IDictionary<string, string?>? settings = null)
    {
        Redis = redis;
        Transport = transport;
        Prefix = RedisServer.NewPrefix();
        Settings = new Dictionary<string, string?>(_data.Settings)
        {
            ["SensorHub:Redis:Configuration"] = redis.Configuration,
            ["SensorHub:Redis:KeyPrefix"] = Prefix,
            ["SensorHub:Auth:SigningKey"] = SigningKey,
            // A dead node is noticed within a few seconds in tests rather than 15 s, with room for a loaded 2-core CI machine.
            ["SensorHub:Redis:NodeHeartbeat"] = "00:00:00.500",
            ["SensorHub:Redis:NodeTimeout"] = "00:00:05",
            ["SensorHub:Redis:UnsubscribeDelay"] = "00:00:00.200",
            ["SensorHub:Redis:PositionCheckInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            Settings[key] = value;
    }

    /// <summary>A signing key every node shares, so that a token made on one is good on all (32 bytes, base64).</summary>
    public const string SigningKey = "c2Vuc29yaHViLXRlc3RzLXNoYXJlZC1zaWduaW5nLWtleSE=";

    public RedisServer Redis { get; }

    public Transport Transport { get; }

    /// <summary>The key prefix of this cluster.</summary>
    public string Prefix { get; }

    /// <summary>The settings every node gets; a test may change them before it starts nodes.</summary>
    public Dictionary<string, string?> Settings { get; }

    /// <summary>The folder every node keeps uploads in.</summary>
    public string DataPath => _data.Path;

    public IReadOnlyList<SensorHubApplication> Nodes => _nodes;

    /// <summary>Starts one more node, with <paramref name="settings"/> over the cluster's, and returns once it serves.</summary>
    public SensorHubApplication StartNode(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? testServices = null)
    {
        var all = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        var node = new SensorHubApplication(Transport, all) { TestServices = testServices };
        _ = node.Services; // starts the host
        _nodes.Add(node);
        return node;
    }

    /// <summary>Starts one more node (see <see cref="StartNode"/>).</summary>
    public Task<SensorHubApplication> StartNodeAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? testServices = null) =>
        Task.Run(() => StartNode(settings, testServices));

    /// <summary>Starts three nodes at once.</summary>
    public async Task<(SensorHubApplication A, SensorHubApplication B, SensorHubApplication C)> StartThreeAsync()
    {
        var started = await Task.WhenAll(StartNodeAsync(), StartNodeAsync(), StartNodeAsync());
        return (started[0], started[1], started[2]);
    }

    /// <summary>
    /// Kills a node: its Redis connections drop at once without a word to the others (no leave, no heartbeat, no
    /// unlock), then its host goes, taking its client connections with it.
    /// </summary>
    public async Task KillAsync(SensorHubApplication node)
    {
        node.Services.GetRequiredService<RedisConnection>().Kill();
        _nodes.Remove(node);
        await node.DisposeAsync();
    }

    /// <summary>The node's id among the nodes.</summary>
    public static string NodeIdOf(SensorHubApplication node) => node.Services.GetRequiredService<RedisConnection>().NodeId;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        _nodes.Clear();
        _data.Dispose();
    }
}
