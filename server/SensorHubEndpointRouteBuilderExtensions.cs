using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Health;
using SensorHub.Server.Hubs;
using SensorHub.Server.Identity;
using SensorHub.Server.OpenApi;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Stats;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server;

/// <summary>Maps SensorHub's endpoints.</summary>
public static class SensorHubEndpointRouteBuilderExtensions
{
    /// <summary>
    /// The hub at <see cref="SensorHubRoutes.Hub"/> behind its stopping gate and its identity checks, <c>/api/stats</c>,
    /// <c>/healthz/live</c> (and <c>/healthz</c>), <c>/healthz/ready</c>, <c>/api/dev/token</c> where dev tokens are on,
    /// the OpenAPI document at <c>/openapi/v1.json</c>, and the page at <c>/</c>.
    /// </summary>
    public static WebApplication MapSensorHub(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseHubShutdown();
        app.UseSensorHubIdentity();
        // A connection lives no longer than its token: SignalR closes it once the authentication expires (checked
        // every second), and the client reconnects with a fresh token from its provider.
        var limits = app.Services.GetRequiredService<IOptions<HubLimitsOptions>>().Value;
        app.MapHub<SensorsHub>(SensorHubRoutes.Hub, connection =>
        {
            connection.CloseOnAuthenticationExpiration = true;
            connection.TransportSendTimeout = limits.TransportSendTimeout;
        });
        app.MapStats();
        app.MapSensorHubHealth();
        app.MapSensorHubMetrics();
        app.MapSensorHubOpenApi();
        return app;
    }
}
