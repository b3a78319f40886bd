namespace SensorHub.Server.Simulation;

internal static partial class SimulationLog
{
    [LoggerMessage(3001, LogLevel.Information, "Simulating {Count} sensors.")]
    public static partial void Started(ILogger logger, int count);

    [LoggerMessage(3002, LogLevel.Information, "Simulation is switched off.")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(3003, LogLevel.Warning, "Simulated sensor {SensorId} had {Rejected} readings rejected: {Reason}")]
    public static partial void Rejected(ILogger logger, string sensorId, long rejected, string reason);

    [LoggerMessage(3004, LogLevel.Warning, "Simulation waits for the engine: {Error}")]
    public static partial void BackendUnavailable(ILogger logger, string error);
}
