using System.Net;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Health;

/// <summary>
/// On Redis, <c>/healthz/ready</c> follows Redis: 200 while it answers and the node's pub/sub connection is up; 503
/// naming the <c>redis</c> check once Redis has not answered for the grace period (paused: its sockets stay open) or at
/// once when its connections drop (stopped); 200 again after. Liveness never follows Redis.
/// </summary>
public sealed class RedisReadinessTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task ReadinessIs503WhileRedisDoesNotAnswerPastTheGracePeriodAnd200Otherwise()
    {
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:00:00.500" });
        var node = nodes.StartNode();
        using var client = node.CreateHttpClient();
        var ready = await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.OK);
        Assert.Equal(["data-folder", "redis", "stopping", "uploads"], ready.Checks.Keys.Order(StringComparer.Ordinal));

        _redis.Pause();
        try
        {
            var paused = await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(["redis"], paused.Failing);
            Assert.Contains("Redis is unavailable", paused.Checks["redis"].Description, StringComparison.Ordinal);
            // Liveness does not follow Redis: the process runs.
            Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.HealthLive)).Code);
            Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.Health)).Code);
        }
        finally
        {
            _redis.Resume();
        }
        Assert.Empty((await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.OK)).Failing);
    }

    [Fact]
    public async Task ReadinessIs503AtOnceWhenRedisStopsAnd200OnceItIsBack()
    {
        // A grace period far longer than the test: only the dropped pub/sub connection can make the node unready.
        await using var nodes = new RedisNodes(_redis, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:05:00" });
        var node = nodes.StartNode();
        using var client = node.CreateHttpClient();
        await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.OK);

        _redis.Stop();
        var stopped = await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(["redis"], stopped.Failing);
        Assert.Contains("pub/sub connection", stopped.Checks["redis"].Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.HealthLive)).Code);

        await _redis.StartAgainAsync();
        // StackExchange.Redis reconnects with a back-off of a few seconds: more room than a plain wait.
        Assert.Empty((await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.OK, Timeouts.Default * 2)).Failing);
    }

    [Fact]
    public async Task ANodeWhoseRedisIsDownStartsAndIsNotReady()
    {
        await using var down = await RedisServer.StartAsync();
        down.Stop();
        await using var nodes = new RedisNodes(down, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:00:00.300" });
        var node = nodes.StartNode();
        using var client = node.CreateHttpClient();
        var ready = await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(["redis"], ready.Failing);
    }
}
