using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

/// <summary>
/// Who may call what, by role: refuses a call whose method <see cref="RequiresAttribute">requires</see> a permission
/// that none of the caller's roles grants, before anything else is taken for it (a stream slot, a rate permit). The
/// checks that depend on the data (a sensor's prefix, an upload's or a session's owner) stay with the features.
/// It also reads the caller from the connection's claims once, when the connection opens (<see cref="HubCaller"/>).
/// </summary>
internal sealed class HubAuthorizationFilter : IHubFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, RequiresAttribute?> s_requirements = new();

    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (s_requirements.GetOrAdd(invocationContext.HubMethod, static m => m.GetCustomAttribute<RequiresAttribute>()) is { } required
            && !HubCaller.Of(invocationContext.Context).Has(required.Permission))
        {
            throw new SensorHubException(
                SensorHubErrors.NotAllowed,
                $"Not allowed: {invocationContext.HubMethodName} needs the {string.Join(" or ", Roles.Granting(required.Permission))} role.");
        }
        return next(invocationContext);
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        HubCaller.Attach(context.Context);
        return next(context);
    }
}
