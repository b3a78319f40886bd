using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Nodes;

/// <summary>
/// What a part of the engine does for a node that died (its heartbeat expired without the node saying goodbye): take
/// its members out of their sessions, free its leases. Run by every live node's sweeper, possibly by several at once
/// and again after a failure, so it must be idempotent.
/// </summary>
public interface IDeadNodeCleanup
{
    /// <summary>Cleans up after <paramref name="nodeId"/>; throws to be tried again at the next sweep.</summary>
    Task CleanUpAsync(string nodeId, CancellationToken cancellationToken);
}

/// <summary>
/// The nodes of a cluster in Redis. Every <see cref="RedisOptions.NodeHeartbeat"/> this node renews
/// <c>{prefix}node:{NodeId}</c> with an expiry of <see cref="RedisOptions.NodeTimeout"/> and keeps itself in the set
/// <c>{prefix}nodes</c>; then it sweeps: every node in the set whose heartbeat key has expired is dead, and each
/// <see cref="IDeadNodeCleanup"/> runs for it before it leaves the set (so a cleanup that failed is tried again).
/// A node that stops (rather than dies) removes its heartbeat at once.
/// </summary>
/// <remarks>
/// A node whose own heartbeat expired while it was still running (cut off from Redis, or paused, for longer than the
/// timeout) has been taken for dead and cleaned up by the others: <see cref="PresumedDead"/> tells its parts so, and
/// it then beats again as a node that has just started.
/// </remarks>
public sealed class RedisNodeRegistry(
    RedisConnection redis,
    IEnumerable<IDeadNodeCleanup> cleanups,
    IOptions<RedisOptions> options,
    TimeProvider time,
    ILogger<RedisNodeRegistry> logger) : BackgroundService
{
    // KEYS[1] the heartbeat, KEYS[2] the set of nodes; ARGV[1] the node id, ARGV[2] the timeout in ms.
    // Returns whether the heartbeat still existed (it did not on the first beat, or after it expired).
    private const string BeatScript = """
        local existed = redis.call('EXISTS', KEYS[1])
        redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[1])
        return existed
        """;

    // KEYS[1] the dead node's heartbeat, KEYS[2] the set of nodes; ARGV[1] its id. It leaves the set only if it is
    // still dead: a node that came back meanwhile stays.
    private const string ForgetScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('SREM', KEYS[2], ARGV[1])
        return 1
        """;

    private readonly RedisOptions _options = options.Value;
    private readonly IDeadNodeCleanup[] _cleanups = cleanups.ToArray();
    private volatile bool _beaten;
    private int _sweeps;

    /// <summary>Raised when this node finds that its heartbeat had expired: the others have cleaned up after it.</summary>
    public event Action? PresumedDead;

    /// <summary>This node's id.</summary>
    public string NodeId => redis.NodeId;

    /// <summary>Sweeps done so far (for tests).</summary>
    public int Sweeps => Volatile.Read(ref _sweeps);

    /// <summary>The heartbeat key of a node.</summary>
    public RedisKey HeartbeatKey(string nodeId) => redis.Key("node:" + nodeId);

    /// <summary>The ids of the nodes in the set now, live or not yet swept.</summary>
    public async Task<string[]> NodesAsync()
    {
        var members = await redis.Database.SetMembersAsync(redis.Key("nodes")).ConfigureAwait(false);
        return members.Select(m => m.ToString()).ToArray();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The heartbeat has a thread of its own and waits on Redis synchronously (StackExchange.Redis completes a
        // synchronous call on its own I/O threads): a node whose thread pool is starved is slow, not dead, and must
        // not be taken for dead by the others.
        var beating = new Thread(() => Beat(stoppingToken)) { IsBackground = true, Name = "sensorhub-node-heartbeat" };
        beating.Start();
        using var timer = new PeriodicTimer(_options.NodeHeartbeat, time);
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            if (redis.IsKilled)
                return;
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (!redis.IsKilled)
                    RedisNodesLog.BeatFailed(logger, e.Message);
            }
            finally
            {
                Interlocked.Increment(ref _sweeps);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (redis.IsKilled || !_beaten)
            return;
        // A node that stops says so: the others need not wait for its heartbeat to expire. Its parts have left
        // what they held themselves by then (a session's members leave as their streams end).
        try
        {
            var db = redis.Database;
            await db.KeyDeleteAsync(HeartbeatKey(NodeId)).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RedisNodesLog.BeatFailed(logger, e.Message);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Beat(CancellationToken stoppingToken)
    {
        do
        {
            if (redis.IsKilled)
                return;
            try
            {
                var existed = (long)redis.Database.ScriptEvaluate(
                    BeatScript,
                    [HeartbeatKey(NodeId), redis.Key("nodes")],
                    [NodeId, (long)_options.NodeTimeout.TotalMilliseconds]);
                if (existed == 0 && _beaten)
                {
                    RedisNodesLog.PresumedDead(logger, NodeId, _options.NodeTimeout);
                    PresumedDead?.Invoke();
                }
                _beaten = true;
            }
            catch (Exception e)
            {
                // Redis unreachable: RedisAvailability says so; the heartbeat lapses, as it should.
                if (!redis.IsKilled)
                    RedisNodesLog.BeatFailed(logger, e.Message);
            }
        }
        while (!stoppingToken.WaitHandle.WaitOne(_options.NodeHeartbeat));
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var db = redis.Database;
        foreach (var nodeId in await NodesAsync().ConfigureAwait(false))
        {
            if (nodeId == NodeId || await db.KeyExistsAsync(HeartbeatKey(nodeId)).ConfigureAwait(false))
                continue;
            RedisNodesLog.Dead(logger, nodeId, NodeId);
            foreach (var cleanup in _cleanups)
                await cleanup.CleanUpAsync(nodeId, cancellationToken).ConfigureAwait(false);
            await db.ScriptEvaluateAsync(ForgetScript, [HeartbeatKey(nodeId), redis.Key("nodes")], [nodeId]).ConfigureAwait(false);
        }
    }
}

/// <summary>Registers the node registry once, whichever part asks for it first.</summary>
public static class RedisNodesRegistration
{
    public static IServiceCollection AddRedisNodes(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(RedisNodeRegistry)))
            return services;
        services.TryAddSingleton<RedisNodeRegistry>();
        services.AddHostedService(provider => provider.GetRequiredService<RedisNodeRegistry>());
        return services;
    }
}

internal static partial class RedisNodesLog
{
    [LoggerMessage(8290, LogLevel.Warning, "Node {NodeId} is dead (its heartbeat expired); node {Sweeper} cleans up after it.")]
    public static partial void Dead(ILogger logger, string nodeId, string sweeper);

    [LoggerMessage(8291, LogLevel.Warning, "The node's heartbeat or sweep failed: {Error}")]
    public static partial void BeatFailed(ILogger logger, string error);

    [LoggerMessage(8292, LogLevel.Error, "This node ({NodeId}) found its heartbeat expired (not renewed within {Timeout}): the others took it for dead and cleaned up after it.")]
    public static partial void PresumedDead(ILogger logger, string nodeId, TimeSpan timeout);
}
