using Microsoft.Extensions.Diagnostics.HealthChecks;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Health;

/// <summary>
/// <c>GET /healthz/ready</c>: whether this node can serve, for a load balancer that drains a node answering 503. Every
/// health check tagged <see cref="Tag"/> takes part: this one (the node is not stopping) and, on Redis, whether Redis
/// answers within its grace period. <c>GET /healthz</c> stays the liveness answer: the process runs.
/// </summary>
internal sealed class ReadinessCheck(ShutdownSignal shutdown) : IHealthCheck
{
    /// <summary>The tag of the checks <c>/healthz/ready</c> runs.</summary>
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(shutdown.IsStopping
            ? HealthCheckResult.Unhealthy("The node is stopping.")
            : HealthCheckResult.Healthy());
}

/// <summary>Maps <c>/healthz/ready</c>.</summary>
internal static class ReadinessEndpoints
{
    /// <summary>200 <c>ready</c>, or 503 with the reasons of every failing check, one per line (text/plain).</summary>
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(Contracts.SensorHubRoutes.Ready, new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadinessCheck.Tag),
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "text/plain; charset=utf-8";
                return context.Response.WriteAsync(report.Status == HealthStatus.Healthy
                    ? "ready"
                    : string.Join('\n', report.Entries.Values.Where(e => e.Status != HealthStatus.Healthy).Select(e => e.Description)));
            },
        });
        return endpoints;
    }
}
