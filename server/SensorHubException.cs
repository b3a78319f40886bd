using SensorHub.Contracts;

namespace SensorHub.Server;

/// <summary>
/// A request that the caller got wrong or may not make. Its message is written for the caller and names what was
/// wrong; <see cref="Code"/> is one of <see cref="SensorHubErrors"/>. The hub hands it on as a <c>HubException</c>
/// whose message is <c>[code] message</c> (see <see cref="Hubs.HubErrors"/>), the one place where that happens.
/// </summary>
public class SensorHubException(string code, string message) : Exception(message)
{
    /// <summary>The stable code clients decide by: one of <see cref="SensorHubErrors"/>.</summary>
    public string Code { get; } = code;
}
