using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SensorHub.Server.Redis;

/// <summary>
/// The node's connections to Redis (one StackExchange.Redis multiplexer: an interactive connection and a pub/sub one),
/// its id among the nodes, and the names of its keys and channels under <see cref="RedisOptions.KeyPrefix"/>.
/// </summary>
/// <remarks>
/// The multiplexer is made at start without waiting for Redis (<c>abortConnect=false</c>): a node whose Redis is down
/// starts, answers 503 on <c>/healthz/ready</c> and refuses what needs Redis, and serves once Redis answers.
/// StackExchange.Redis reconnects by itself and subscribes again to every channel after a reconnect.
/// </remarks>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly RedisMetrics _metrics;
    private readonly Lazy<ConnectionMultiplexer> _multiplexer;
    private volatile bool _killed;

    public RedisConnection(IOptions<RedisOptions> options, RedisMetrics metrics)
    {
        _options = options.Value;
        _metrics = metrics;
        NodeId = Guid.NewGuid().ToString("N")[..16];
        _multiplexer = new(Connect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>This node's id among the nodes: 16 hexadecimal digits, new at every start.</summary>
    public string NodeId { get; }

    /// <summary>The prefix of every key and channel (<see cref="RedisOptions.KeyPrefix"/>).</summary>
    public string Prefix => _options.KeyPrefix;

    /// <summary>The multiplexer, made on first use.</summary>
    /// <exception cref="ObjectDisposedException">The node was killed (<see cref="Kill"/>) or is disposed.</exception>
    public IConnectionMultiplexer Multiplexer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_killed, this);
            return _multiplexer.Value;
        }
    }

    /// <summary>The database commands go to (database 0, as Redis Cluster allows no other).</summary>
    public IDatabase Database => Multiplexer.GetDatabase();

    /// <summary>The pub/sub side.</summary>
    public ISubscriber Subscriber => Multiplexer.GetSubscriber();

    /// <summary>A key under the prefix: <c>{KeyPrefix}{name}</c>.</summary>
    public RedisKey Key(string name) => _options.KeyPrefix + name;

    /// <summary>A channel under the prefix, by its literal name: <c>{KeyPrefix}{name}</c>.</summary>
    public RedisChannel Channel(string name) => RedisChannel.Literal(_options.KeyPrefix + name);

    /// <summary>Whether <see cref="Kill"/> ran.</summary>
    internal bool IsKilled => _killed;

    /// <summary>
    /// Drops every Redis connection of this node at once, sending nothing more: what a node that is killed or cut off
    /// looks like to the others (its heartbeat stops, its pub/sub subscriptions go, nothing is cleaned up). For tests.
    /// </summary>
    internal void Kill()
    {
        _killed = true;
        if (_multiplexer.IsValueCreated)
            _multiplexer.Value.Close(allowCommandsToComplete: false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer.IsValueCreated && !_killed)
            await _multiplexer.Value.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
        if (_multiplexer.IsValueCreated)
            _multiplexer.Value.Dispose();
    }

    private ConnectionMultiplexer Connect()
    {
        var configuration = ConfigurationOptions.Parse(_options.Configuration!);
        configuration.AbortOnConnectFail = false;
        configuration.ClientName ??= "sensorhub-" + NodeId;
        // A connection attempt gives up after at most 5 s (a configuration string may ask for less). A command in
        // flight when the connection drops fails, and StackExchange.Redis never sends it again: its outcome is unknown,
        // and the feeds refuse to guess (see RedisFeedEngine).
        configuration.ConnectTimeout = Math.Min(configuration.ConnectTimeout, 5_000);
        var multiplexer = ConnectionMultiplexer.Connect(configuration);
        // Raised once for each of its connections (commands, pub/sub) that comes back after it failed.
        multiplexer.ConnectionRestored += (_, _) => _metrics.Reconnected();
        return multiplexer;
    }
}
