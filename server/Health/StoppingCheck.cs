using Microsoft.Extensions.Diagnostics.HealthChecks;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Health;

/// <summary>
/// Not ready once the server has begun to stop (<see cref="ShutdownSignal"/>): from the first moment of the drain, so
/// that a load balancer sends the node nothing new while its streams complete and its connections close.
/// </summary>
internal sealed class StoppingCheck(ShutdownSignal shutdown) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(shutdown.IsStopping
            ? HealthCheckResult.Unhealthy("The node is stopping: its streams are completing and its connections closing.")
            : HealthCheckResult.Healthy());
}
