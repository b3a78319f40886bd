using System.Net;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Redis;

/// <summary><c>/healthz/ready</c> follows Redis: 200 while it answers, 503 once it has not for the grace period, 200 again after.</summary>
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
        await WaitForAsync(client, HttpStatusCode.OK);

        _redis.Pause();
        try
        {
            var body = await WaitForAsync(client, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("Redis is unavailable", body, StringComparison.Ordinal);
            // Liveness does not follow Redis: the process runs.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(SensorHubRoutes.Health)).StatusCode);
        }
        finally
        {
            _redis.Resume();
        }
        Assert.Equal("ready", await WaitForAsync(client, HttpStatusCode.OK));
    }

    [Fact]
    public async Task ANodeWhoseRedisIsDownStartsAndIsNotReady()
    {
        await using var down = await RedisServer.StartAsync();
        down.Stop();
        await using var nodes = new RedisNodes(down, settings: new Dictionary<string, string?> { ["SensorHub:Redis:GracePeriod"] = "00:00:00.300" });
        var node = nodes.StartNode();
        using var client = node.CreateHttpClient();
        await WaitForAsync(client, HttpStatusCode.ServiceUnavailable);
    }

    private static async Task<string> WaitForAsync(HttpClient client, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (true)
        {
            using var response = await client.GetAsync(SensorHubRoutes.Ready);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == status)
                return body;
            Assert.True(DateTime.UtcNow < deadline, $"/healthz/ready still answers {(int)response.StatusCode} {body}, not {(int)status}.");
            await Task.Delay(50);
        }
    }
}
