using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Server.Stats;

namespace SensorHub.Server.Hubs;

/// <summary>
/// What an error meant for the caller becomes: a <see cref="HubException"/> whose message is <c>[code] text</c>, the
/// code first so that clients can read it (<see cref="SensorHubErrors.CodeOf"/>). Only <see cref="HubErrorFilter"/>
/// and its <see cref="ErrorMappingStream{T}"/> call it.
/// </summary>
internal static class HubErrors
{
    public static HubException From(SensorHubException error, Refusals refusals)
    {
        refusals.Count(error.Code);
        return new HubException(SensorHubErrors.Format(error.Code, error.Message), error);
    }
}
