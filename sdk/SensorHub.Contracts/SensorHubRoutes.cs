namespace SensorHub.Contracts;

/// <summary>The server's fixed paths.</summary>
public static class SensorHubRoutes
{
    /// <summary>The SignalR hub.</summary>
    public const string Hub = "/hubs/sensors";

    /// <summary>Counters as JSON (<see cref="ServerStats"/>).</summary>
    public const string Stats = "/api/stats";

    /// <summary>Liveness: 200 while the process answers; no dependency is checked. JSON: <c>{"status":"Healthy","checks":{}}</c>.</summary>
    public const string HealthLive = "/healthz/live";

    /// <summary>Liveness, as <see cref="HealthLive"/>: the first path SensorHub had, kept for the probes that use it.</summary>
    public const string Health = "/healthz";

    /// <summary>
    /// Readiness: 200 when the node can serve, 503 when a load balancer should send it nothing new (it is stopping,
    /// its uploads are not loaded yet, its data folder is not writable, or on Redis Redis does not answer or its
    /// pub/sub connection is down). JSON: the overall status and each check's, with the reason of a failing one.
    /// </summary>
    public const string Ready = "/healthz/ready";

    /// <summary>Dev tokens (<see cref="DevTokenRequest"/>), where the server offers them.</summary>
    public const string DevToken = "/api/dev/token";

    /// <summary>The Prometheus scrape, where <c>SensorHub:Telemetry:Prometheus</c> turns it on.</summary>
    public const string Metrics = "/metrics";

    /// <summary>The OpenAPI document of these HTTP endpoints (the hub is described in docs/contract.md).</summary>
    public const string OpenApi = "/openapi/v1.json";
}
