using Microsoft.Extensions.Diagnostics.HealthChecks;
using SensorHub.Server.Redis.Feeds.Internal;

namespace SensorHub.Server.Redis;

/// <summary>
/// The node is not ready while Redis is unavailable (no answer to its pings for the grace period, see
/// <see cref="RedisAvailability"/>), nor while its pub/sub connection is down (<see cref="RedisFeedRouter.IsListening"/>):
/// then no reading published on another node reaches this one's subscribers live. A Redis that stops is seen at once
/// (its connections close); one that hangs, once the grace period has run out.
/// </summary>
internal sealed class RedisReadinessCheck(RedisAvailability availability, RedisFeedRouter router) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var listening = router.IsListening;
        return Task.FromResult((availability.IsAvailable, listening) switch
        {
            (true, true) => HealthCheckResult.Healthy(),
            (false, _) => HealthCheckResult.Unhealthy(
                "Redis is unavailable: " + availability.Cause + (listening ? "" : "; the pub/sub connection is down")),
            (true, false) => HealthCheckResult.Unhealthy("The pub/sub connection to Redis is down: live readings from other nodes do not reach this one."),
        });
    }
}
