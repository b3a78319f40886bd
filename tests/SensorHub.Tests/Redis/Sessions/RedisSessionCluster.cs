using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Redis.Sessions;
using SensorHub.Server.Sessions;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Redis.Sessions;

/// <summary>
/// A redis-server and three nodes A, B and C on it, shared by the tests of a class; a test that kills or stops a node
/// starts one more of its own. Tests use sessions and users of their own.
/// </summary>
public class RedisSessionCluster : IAsyncLifetime
{
    private RedisServer? _redis;

    /// <summary>Session settings over the defaults, for a derived cluster.</summary>
    protected virtual Dictionary<string, string?> Settings => new()
    {
        // Several annotators at once in one session: the default 5 per second would refuse them.
        ["SensorHub:Sessions:AnnotationRateLimit"] = "10000",
        ["SensorHub:Hub:CreationRateLimit"] = "1000",
    };

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("Not started.");

    public RedisNodes Nodes { get; private set; } = null!;

    public SensorHubApplication A { get; private set; } = null!;

    public SensorHubApplication B { get; private set; } = null!;

    public SensorHubApplication C { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        Nodes = new RedisNodes(_redis, Transport.TestServer, Settings);
        var started = await Task.WhenAll(Nodes.StartNodeAsync(), Nodes.StartNodeAsync(), Nodes.StartNodeAsync());
        (A, B, C) = (started[0], started[1], started[2]);
    }

    public async Task DisposeAsync()
    {
        await Nodes.DisposeAsync();
        if (_redis is not null)
            await _redis.DisposeAsync();
    }

    internal static RedisSessionStore StoreOf(SensorHubApplication node) => (RedisSessionStore)node.Services.GetRequiredService<ISessionStore>();

    /// <summary>The participants of a session as Redis holds them.</summary>
    public static Task<Participant[]> ParticipantsAsync(SensorHubApplication node, string sessionId) => StoreOf(node).ParticipantsAsync(sessionId);
}

/// <summary>A cluster whose streams buffer 10 events and whose idle sessions stay (tests sweep by hand).</summary>
public sealed class SmallBufferCluster : RedisSessionCluster
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["SensorHub:Sessions:AnnotationRateLimit"] = "10000",
        ["SensorHub:Sessions:EventBufferCapacity"] = "10",
        ["SensorHub:Sessions:IdleTimeout"] = "00:00:00",
    };
}
