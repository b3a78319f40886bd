namespace SensorHub.Server;

/// <summary>
/// A request that the caller got wrong. Its message is written for the caller and names what was wrong;
/// the hub hands it on as a <c>HubException</c>.
/// </summary>
public class SensorHubException(string message) : Exception(message);
