using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SensorHub.Contracts;

namespace SensorHub.Server.Health;

/// <summary>
/// <c>GET /healthz/live</c> (and <c>/healthz</c>, its alias) and <c>GET /healthz/ready</c>, open to anyone. Both answer
/// JSON in one shape, <see cref="HealthAnswer"/>: the overall status and each check's, with the reason of a failing one.
/// </summary>
internal static class HealthEndpoints
{
    /// <summary>The tag of the health checks <c>/healthz/ready</c> runs; <c>/healthz/live</c> runs none.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Liveness answers without running a check: it only says that the process answers.</summary>
    private static readonly HealthAnswer Alive = new(nameof(HealthStatus.Healthy), new Dictionary<string, HealthCheckAnswer>());

    public static IEndpointRouteBuilder MapSensorHubHealth(this IEndpointRouteBuilder endpoints)
    {
        MapLive(endpoints, SensorHubRoutes.HealthLive, "HealthLive", "Liveness: the process answers.");
        MapLive(endpoints, SensorHubRoutes.Health, "Health", "Liveness, as /healthz/live (kept for the probes that use it).");
        endpoints.MapGet(SensorHubRoutes.Ready, ReadyAsync)
            .WithName("HealthReady")
            .WithTags("Health")
            .WithSummary("Readiness: whether a load balancer should send this node new connections.")
            .WithDescription(
                "200 when every check passes; 503 when one fails, with each check's status and the reason of each " +
                "failing one. Checks: 'stopping' (the server has begun to stop and is draining), 'uploads' (the data " +
                "folder's uploads are loaded), 'data-folder' (a file can be created and deleted there; the answer is " +
                "reused for SensorHub:Health:DataFolderProbeInterval), and on Redis 'redis' (Redis answered within " +
                "its grace period and the node's pub/sub connection is up).")
            .Produces<HealthAnswer>(StatusCodes.Status200OK)
            .Produces<HealthAnswer>(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    private static void MapLive(IEndpointRouteBuilder endpoints, string pattern, string name, string summary) =>
        endpoints.MapGet(pattern, Live)
            .WithName(name)
            .WithTags("Health")
            .WithSummary(summary)
            .WithDescription(
                "200 while the process answers HTTP. It checks no dependency, so that a node is restarted only when it " +
                "is stuck, never because Redis or the disk is away: that is readiness's to say.")
            .Produces<HealthAnswer>(StatusCodes.Status200OK);

    private static Ok<HealthAnswer> Live(HttpContext context)
    {
        NoStore(context);
        return TypedResults.Ok(Alive);
    }

    private static async Task<IResult> ReadyAsync(HttpContext context, HealthCheckService health)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), context.RequestAborted).ConfigureAwait(false);
        NoStore(context);
        var answer = new HealthAnswer(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckAnswer(e.Value.Status.ToString(), e.Value.Description), StringComparer.Ordinal));
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(answer, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(answer);
    }

    /// <summary>A health answer is about this moment: no cache between the node and its load balancer may keep it.</summary>
    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store, no-cache";
}

/// <summary>A health endpoint's answer.</summary>
/// <param name="Status"><c>Healthy</c> (200) or <c>Unhealthy</c> (503): the worst of the checks'.</param>
/// <param name="Checks">Each check by its name, in the order they ran; empty for liveness, which runs none.</param>
internal sealed record HealthAnswer(string Status, IReadOnlyDictionary<string, HealthCheckAnswer> Checks);

/// <summary>One check's answer.</summary>
/// <param name="Status"><c>Healthy</c> or <c>Unhealthy</c>.</param>
/// <param name="Description">Why it fails; absent while it passes.</param>
internal sealed record HealthCheckAnswer(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description);
