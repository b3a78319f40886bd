using System.Diagnostics;
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
    /// <param name="invocation">The call's activity (SignalR's), marked refused with the code; <see langword="null"/> when none is recorded.</param>
    public static HubException From(SensorHubException error, Refusals refusals, ILogger logger, HubCallerContext caller, string method, Activity? invocation)
    {
        refusals.Count(error.Code);
        HubInvocationOutcome.Refused(invocation, error.Code);
        HubLog.Refused(logger, method, caller.ConnectionId, error.Code, error.Message);
        return new HubException(SensorHubErrors.Format(error.Code, error.Message), error);
    }

    /// <summary>
    /// Logs an unexpected failure (SignalR's own log of it is kept to critical entries: it would log every refusal too).
    /// A cancellation is the stream's or the connection's end, not a failure.
    /// </summary>
    public static bool LogUnexpected(Exception error, ILogger logger, HubCallerContext caller, string method)
    {
        if (error is not (SensorHubException or HubException or OperationCanceledException))
            HubLog.Failed(logger, method, caller.ConnectionId, error);
        return false;
    }
}
