using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using SensorHub.Contracts;

namespace SensorHub.Server.OpenApi;

/// <summary>
/// The OpenAPI document of SensorHub's HTTP endpoints, served at <see cref="SensorHubRoutes.OpenApi"/>. Each endpoint
/// describes itself where it is mapped (summary, description, response types); the hub is SignalR's and is described
/// in docs/contract.md, not here.
/// </summary>
internal static class OpenApiExtensions
{
    /// <summary>The document's name: it is served as <c>/openapi/{name}.json</c>.</summary>
    public const string DocumentName = "v1";

    public static IServiceCollection AddSensorHubOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "SensorHub",
                    Version = DocumentName,
                    Description =
                        "The HTTP endpoints of a SensorHub node: counters, dev tokens, health for load balancers and, " +
                        $"where on, the Prometheus scrape. The SignalR hub at {SensorHubRoutes.Hub} (methods, DTOs, error " +
                        "codes) is described in docs/contract.md.",
                };
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<MetricsEndpointDescription>();
        });

    /// <summary>
    /// <c>GET /openapi/v1.json</c>, open to anyone in every environment: it says no more than what the endpoints it lists
    /// answer anyway, and an endpoint that is off (dev tokens, metrics) is left out of it.
    /// </summary>
    public static IEndpointRouteBuilder MapSensorHubOpenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(SensorHubRoutes.OpenApi.Replace(DocumentName, "{documentName}", StringComparison.Ordinal));
        return endpoints;
    }
}
