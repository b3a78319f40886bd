using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SensorHub.Server.Redis;

/// <summary>The node is not ready while Redis is unavailable (see <see cref="RedisAvailability"/>).</summary>
internal sealed class RedisReadinessCheck(RedisAvailability availability) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(availability.IsAvailable
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("Redis is unavailable: " + availability.Cause));
}
