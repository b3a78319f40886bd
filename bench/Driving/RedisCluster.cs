using System.Security.Cryptography;
using SensorHub.Bench.Serving;

namespace SensorHub.Bench.Driving;

/// <summary>
/// What the Redis mode drives: a <see cref="RedisServerProcess"/>, SensorHub nodes on it, each a <c>serve sensorhub</c>
/// process of its own sharing the Redis, a key prefix, a signing key and an upload data folder (as a cluster's nodes
/// do), and beside them one node on the in-memory engine to compare with. Disposing stops everything it started, by pid.
/// </summary>
internal sealed class RedisCluster : IAsyncDisposable
{
    private readonly string _dataPath;

    private RedisCluster(RedisServerProcess redis, BenchTarget[] nodes, BenchTarget? inMemory, string dataPath, string keyPrefix)
    {
        Redis = redis;
        Nodes = nodes;
        InMemory = inMemory;
        _dataPath = dataPath;
        KeyPrefix = keyPrefix;
    }

    public RedisServerProcess Redis { get; }

    /// <summary>The nodes on Redis, "node 1" first.</summary>
    public IReadOnlyList<BenchTarget> Nodes { get; }

    /// <summary>The node on the in-memory engine (no Redis), when asked for.</summary>
    public BenchTarget? InMemory { get; }

    public string KeyPrefix { get; }

    /// <summary>Starts Redis, then the nodes (at once), and returns once every node answers ready.</summary>
    public static async Task<RedisCluster> StartAsync(int nodeCount, bool withInMemory)
    {
        var redis = await RedisServerProcess.StartAsync();
        var dataPath = Path.Combine(Path.GetTempPath(), $"sensorhub-bench-cluster-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataPath);
        var keyPrefix = $"bench{Guid.NewGuid():N}"[..13] + ":";
        var settings = new Dictionary<string, string>
        {
            ["SensorHub:Redis:Configuration"] = redis.Configuration,
            ["SensorHub:Redis:KeyPrefix"] = keyPrefix,
            // A token made on one node is good on every node.
            ["SensorHub:Auth:SigningKey"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
            ["SensorHub:Uploads:DataPath"] = dataPath,
        };
        var launches = Enumerable.Range(1, nodeCount)
            .Select(i => BenchTarget.LaunchAsync(ServerKind.SensorHub, settings, $"node {i}"))
            .Append(withInMemory ? BenchTarget.LaunchAsync(ServerKind.SensorHub, name: "in-memory") : Task.FromResult<BenchTarget>(null!))
            .ToArray();
        try
        {
            await Task.WhenAll(launches);
            var nodes = launches.Take(nodeCount).Select(l => l.Result).ToArray();
            var cluster = new RedisCluster(redis, nodes, withInMemory ? launches[^1].Result : null, dataPath, keyPrefix);
            try
            {
                await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync(TimeSpan.FromSeconds(30))));
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }
        catch when (launches.Any(l => !l.IsCompletedSuccessfully))
        {
            foreach (var launch in launches.Where(l => l.IsCompletedSuccessfully && l.Result is not null))
                await launch.Result.DisposeAsync();
            await redis.DisposeAsync();
            DeleteFolder(dataPath);
            throw;
        }
    }

    /// <summary>Registers a sensor on every node on Redis (once would do on the Redis engine; before it, each node has its own).</summary>
    public Task RegisterSensorAsync(string sensorId) =>
        Task.WhenAll(Nodes.Select(n => n.RegisterSensorAsync(sensorId)));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Append(InMemory).OfType<BenchTarget>().Select(n => n.DisposeAsync().AsTask()));
        await Redis.DisposeAsync();
        DeleteFolder(_dataPath);
    }

    private static void DeleteFolder(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
