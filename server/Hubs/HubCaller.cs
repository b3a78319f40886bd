using Microsoft.AspNetCore.SignalR;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The caller of a connection, read from its claims once when it connects (<see cref="HubAuthorizationFilter"/>) and
/// kept as one of its features: a connection's claims never change, and every call would otherwise read them again.
/// </summary>
/// <remarks>
/// A feature, not an entry of <see cref="HubCallerContext.Items"/>: the items dictionary is a
/// <c>ConcurrentDictionary</c> made on first use, about 470 bytes per connection (dotnet-gcdump, 1,000 idle
/// connections), where the connection's feature collection exists already. SensorHub adds its two features only here
/// and in <see cref="ConnectionLimits.Attach"/>, while the connection opens, before any invocation reads them; SignalR
/// itself only replaces values of keys it set at the start (a long poll or reconnect request's endpoint features).
/// </remarks>
internal static class HubCaller
{
    public static void Attach(HubCallerContext context) => context.Features.Set(SensorHubUser.From(context.User));

    public static SensorHubUser Of(HubCallerContext context) => context.Features.Get<SensorHubUser>() ?? SensorHubUser.From(context.User);
}
