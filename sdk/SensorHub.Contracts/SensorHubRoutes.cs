namespace SensorHub.Contracts;

/// <summary>The server's fixed paths.</summary>
public static class SensorHubRoutes
{
    /// <summary>The SignalR hub.</summary>
    public const string Hub = "/hubs/sensors";

    /// <summary>Counters as JSON (<see cref="ServerStats"/>).</summary>
    public const string Stats = "/api/stats";

    /// <summary>Liveness: 200 while the process runs.</summary>
    public const string Health = "/healthz";

    /// <summary>
    /// Readiness: 200 <c>ready</c> when the node can serve, 503 with the reasons (stopping; Redis unavailable past its
    /// grace period) when a load balancer should send it nothing new.
    /// </summary>
    public const string Ready = "/healthz/ready";

    /// <summary>Dev tokens (<see cref="DevTokenRequest"/>), where the server offers them.</summary>
    public const string DevToken = "/api/dev/token";
}
