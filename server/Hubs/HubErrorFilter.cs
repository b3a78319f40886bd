using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Server.Stats;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The one place where an error meant for the caller leaves the server: the outermost hub filter turns every
/// <see cref="SensorHubException"/>, thrown by a call or during a stream, into a <see cref="HubException"/> whose
/// message is <c>[code] text</c> (<see cref="HubErrors"/>), and counts it in <see cref="Refusals"/>. SignalR passes a
/// <see cref="HubException"/>'s message on as it is; any other exception reaches the client as a generic error
/// without detail, so no internal type name or stack trace ever does.
/// </summary>
internal sealed class HubErrorFilter(Refusals refusals) : IHubFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Func<object, Refusals, object>?> s_wrappers = new();
    private static readonly MethodInfo s_wrap = typeof(HubErrorFilter).GetMethod(nameof(Wrap), BindingFlags.NonPublic | BindingFlags.Static)!;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        object? result;
        try
        {
            result = await next(invocationContext);
        }
        catch (SensorHubException ex)
        {
            throw HubErrors.From(ex, refusals);
        }
        return result is not null && s_wrappers.GetOrAdd(invocationContext.HubMethod, WrapperFor) is { } wrap ? wrap(result, refusals) : result;
    }

    private static Func<object, Refusals, object>? WrapperFor(MethodInfo method) =>
        HubStreams.ServerStreamItemType(method) is { } itemType
            ? s_wrap.MakeGenericMethod(itemType).CreateDelegate<Func<object, Refusals, object>>()
            : null;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "Bound to a Func<object, Refusals, object>.")]
    private static object Wrap<T>(object stream, Refusals refusals) => new ErrorMappingStream<T>((IAsyncEnumerable<T>)stream, refusals);
}
