using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using SensorHub.Contracts;

namespace SensorHub.Server.OpenApi;

/// <summary>
/// Adds <c>GET /metrics</c> to the document where the Prometheus scrape endpoint is mapped. The exporter maps it as a
/// plain request delegate, which carries no handler method for ASP.NET Core's API description to read, so it would
/// be missing; this looks for it among the app's endpoints, so the document lists it exactly when it answers.
/// </summary>
internal sealed class MetricsEndpointDescription(EndpointDataSource endpoints) : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var mapped = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Any(e => string.Equals(e.RoutePattern.RawText?.TrimEnd('/'), SensorHubRoutes.Metrics, StringComparison.OrdinalIgnoreCase));
        if (!mapped)
            return Task.CompletedTask;
        var operation = new OpenApiOperation
        {
            OperationId = "Metrics",
            Summary = "Prometheus scrape: every instrument of the SensorHub meter, ASP.NET Core's, Kestrel's, SignalR's and the runtime's.",
            Description =
                "On where SensorHub:Telemetry:Prometheus is true (in Development by default). Prometheus text " +
                "exposition format (or OpenMetrics when the scraper asks for it). Names and meanings: docs/operations.md.",
            Tags = new HashSet<OpenApiTagReference> { new("Operations", document) },
            Responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse
                {
                    Description = "The instruments now, in Prometheus text format.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["text/plain; version=0.0.4"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
            },
        };
        var path = new OpenApiPathItem();
        path.AddOperation(HttpMethod.Get, operation);
        document.Paths ??= new OpenApiPaths();
        document.Paths[SensorHubRoutes.Metrics] = path;
        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = "Operations" });
        return Task.CompletedTask;
    }
}
