namespace SensorHub.Contracts;

/// <summary>The server's fixed paths.</summary>
public static class SensorHubRoutes
{
    /// <summary>The SignalR hub.</summary>
    public const string Hub = "/hubs/sensors";

    /// <summary>Counters as JSON (<see cref="ServerStats"/>).</summary>
    public const string Stats = "/api/stats";

    /// <summary>Liveness.</summary>
    public const string Health = "/healthz";

    /// <summary>Dev tokens (<see cref="DevTokenRequest"/>), where the server offers them.</summary>
    public const string DevToken = "/api/dev/token";
}
