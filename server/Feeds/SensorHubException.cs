namespace SensorHub.Server.Feeds;

/// <summary>
/// A request that the caller got wrong. Its message is written for the caller and names what was wrong;
/// the hub hands it on as a <c>HubException</c>.
/// </summary>
public class SensorHubException(string message) : Exception(message);

/// <summary>A sensor id that is well-formed but that no one has published to.</summary>
public sealed class UnknownSensorException(string sensorId)
    : SensorHubException($"sensorId: no sensor '{sensorId}' is known.")
{
    /// <summary>The id asked for.</summary>
    public string SensorId { get; } = sensorId;
}
