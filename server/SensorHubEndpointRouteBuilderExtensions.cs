using SensorHub.Contracts;
using SensorHub.Server.Hubs;
using SensorHub.Server.Identity;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Stats;

namespace SensorHub.Server;

/// <summary>Maps SensorHub's endpoints.</summary>
public static class SensorHubEndpointRouteBuilderExtensions
{
    /// <summary>
    /// The hub at <see cref="SensorHubRoutes.Hub"/> behind its stopping gate and its identity checks, <c>/api/stats</c>,
    /// <c>/healthz</c>, <c>/api/dev/token</c> where dev tokens are on, and the page at <c>/</c>.
    /// </summary>
    public static WebApplication MapSensorHub(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseHubShutdown();
        app.UseSensorHubIdentity();
        app.MapHub<SensorsHub>(SensorHubRoutes.Hub);
        app.MapStats();
        return app;
    }
}
