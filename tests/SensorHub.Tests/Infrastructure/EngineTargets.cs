namespace SensorHub.Tests.Infrastructure;

/// <summary>Which engine a contract test runs on, and how many nodes.</summary>
public enum EngineTarget
{
    /// <summary>The embedded engine: one process.</summary>
    InMemory,

    /// <summary>The Redis engine with one node.</summary>
    RedisOneNode,

    /// <summary>The Redis engine across three nodes: <see cref="EngineNodes.A"/> publishes, <see cref="EngineNodes.B"/> subscribes, <see cref="EngineNodes.C"/> annotates.</summary>
    RedisAcrossNodes,
}

/// <summary>The engine targets the feed and session contract tests run over, with each protocol.</summary>
public static class EngineTargets
{
    public static TheoryData<EngineTarget, Protocol> All
    {
        get
        {
            var data = new TheoryData<EngineTarget, Protocol>();
            foreach (var engine in Enum.GetValues<EngineTarget>())
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                    data.Add(engine, protocol);
            }
            return data;
        }
    }
}

/// <summary>
/// The nodes of one target. On the in-memory engine and on one Redis node, <see cref="A"/>, <see cref="B"/> and
/// <see cref="C"/> are the same server; across nodes they are three, so a test that publishes on A, subscribes on B
/// and annotates on C crosses nodes at every step.
/// </summary>
public sealed class EngineNodes(SensorHubApplication a, SensorHubApplication b, SensorHubApplication c)
{
    public SensorHubApplication A { get; } = a;

    public SensorHubApplication B { get; } = b;

    public SensorHubApplication C { get; } = c;

    public IReadOnlyList<SensorHubApplication> All => new[] { A, B, C }.Distinct().ToArray();
}

/// <summary>
/// One set of nodes per engine target, shared by the tests of a class (on the in-memory test server), made when a
/// test first asks for it; one redis-server for the Redis targets, each target under a key prefix of its own. Tests
/// use sensors and sessions of their own, so they do not see each other's.
/// </summary>
public sealed class EngineFixture : IAsyncLifetime, IDisposable
{
    private readonly Dictionary<EngineTarget, EngineNodes> _targets = [];
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly SemaphoreSlim _lock = new(1, 1);
    private RedisServer? _redis;

    /// <summary>Settings every node of every target gets (before the first target is made).</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public async Task<EngineNodes> NodesAsync(EngineTarget target)
    {
        await _lock.WaitAsync();
        try
        {
            if (_targets.TryGetValue(target, out var nodes))
                return nodes;
            nodes = await MakeAsync(target);
            _targets[target] = nodes;
            return nodes;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<EngineNodes> MakeAsync(EngineTarget target)
    {
        if (target == EngineTarget.InMemory)
        {
            var app = new SensorHubApplication(Transport.TestServer, Settings);
            _owned.Add(app);
            return new EngineNodes(app, app, app);
        }
        _redis ??= await RedisServer.StartAsync();
        var cluster = new RedisNodes(_redis, Transport.TestServer, Settings);
        _owned.Add(cluster);
        if (target == EngineTarget.RedisOneNode)
        {
            var node = await cluster.StartNodeAsync();
            return new EngineNodes(node, node, node);
        }
        var started = await Task.WhenAll(cluster.StartNodeAsync(), cluster.StartNodeAsync(), cluster.StartNodeAsync());
        return new EngineNodes(started[0], started[1], started[2]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
            await owned.DisposeAsync();
        if (_redis is not null)
            await _redis.DisposeAsync();
    }

    public void Dispose() => _lock.Dispose();
}
