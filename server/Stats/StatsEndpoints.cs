using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Hubs;

namespace SensorHub.Server.Stats;

/// <summary>
/// <c>GET /api/stats</c>. The counters stand behind the hub's door (<see cref="Identity.HubAccessMiddleware"/>: a
/// signed-in caller, or a guest where anonymous access is on). Health is <see cref="Health.HealthEndpoints"/>'.
/// </summary>
internal static class StatsEndpoints
{
    /// <summary>
    /// The counters now. Reads totals only and walks no sensor or subscriber here: the engine's counters (kept as
    /// running totals), the hub's two counts, and one count per error code. A request therefore costs the same
    /// whatever the number of sensors and subscribers, and a caller polling it cannot make the server work harder.
    /// </summary>
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
            Node = counters.Node,
            ClusterWide = counters.Node is null ? null : ClusterWide,
        };
    }

    /// <summary>What a distributed engine counts over the cluster: the rest is the node's.</summary>
    private static readonly string[] ClusterWide = ["sensors", "readingsPublished"];

    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SensorHubRoutes.Stats, (HubActivity activity, IFeedEngine engine, Refusals refusals) => Snapshot(activity, engine, refusals))
            .WithName("Stats")
            .WithTags("Stats")
            .WithSummary("The node's counters now: connections, streams, sensors, readings, refusals by code.")
            .WithDescription(
                "Behind the hub's door: a bearer token, or none where guests are allowed (SensorHub:Auth:AllowAnonymous). " +
                "On Redis, 'sensors' and 'readingsPublished' count the cluster (listed in 'clusterWide'), the rest this node.")
            .Produces(StatusCodes.Status401Unauthorized);
        return endpoints;
    }
}
