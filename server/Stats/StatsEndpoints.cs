using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Hubs;

namespace SensorHub.Server.Stats;

internal static class StatsEndpoints
{
    public static ServerStats Snapshot(HubActivity activity, IFeedEngine engine, Refusals refusals)
    {
        var counters = engine.GetCounters();
        return new ServerStats
        {
            Connections = activity.Connections,
            ActiveStreams = activity.ActiveStreams,
            Sensors = counters.Sensors,
            ReadingsPublished = counters.Published,
            ReadingsDelivered = counters.Delivered,
            ReadingsDropped = counters.Dropped,
            Refusals = refusals.Snapshot(),
        };
    }

    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SensorHubRoutes.Stats, (HubActivity activity, IFeedEngine engine, Refusals refusals) => Snapshot(activity, engine, refusals));
        endpoints.MapGet(SensorHubRoutes.Health, () => Results.Text("ok"));
        return endpoints;
    }
}
