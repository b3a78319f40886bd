using Microsoft.AspNetCore.SignalR;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The caller of a connection, read from its claims once when it connects (<see cref="HubAuthorizationFilter"/>) and
/// kept in its items: a connection's claims never change, and every call would otherwise read them again.
/// </summary>
internal static class HubCaller
{
    public static void Attach(HubCallerContext context) => context.Items[typeof(SensorHubUser)] = SensorHubUser.From(context.User);

    public static SensorHubUser Of(HubCallerContext context) =>
        context.Items.TryGetValue(typeof(SensorHubUser), out var user) ? (SensorHubUser)user! : SensorHubUser.From(context.User);
}
