using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The one place where an error meant for the caller becomes what SignalR sends: a <see cref="HubException"/> whose
/// message is <c>[code] text</c>, the code first so that clients can read it (<see cref="SensorHubErrors.CodeOf"/>).
/// SignalR passes a <see cref="HubException"/>'s message on as it is; any other exception reaches the client as a
/// generic error without detail.
/// </summary>
internal static class HubErrors
{
    public static HubException Create(string code, string text) => new(SensorHubErrors.Format(code, text));

    public static HubException From(SensorHubException error) => new(SensorHubErrors.Format(error.Code, error.Message), error);
}
