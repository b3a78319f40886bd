using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>A sensor id that is well-formed but that no one has published to.</summary>
public sealed class UnknownSensorException(string sensorId)
    : SensorHubException(SensorHubErrors.UnknownSensor, $"sensorId: no sensor '{sensorId}' is known.")
{
    /// <summary>The id asked for.</summary>
    public string SensorId { get; } = sensorId;
}
