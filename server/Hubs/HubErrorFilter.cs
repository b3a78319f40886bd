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
internal sealed class HubErrorFilter(Refusals refusals, ILogger<HubErrorFilter> logger) : IHubFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Func<object, ErrorContext, object>?> s_wrappers = new();
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
            throw HubErrors.From(ex, refusals, logger, invocationContext.Context, invocationContext.HubMethodName, HubInvocationOutcome.Current);
        }
        catch (Exception ex) when (HubErrors.LogUnexpected(ex, logger, invocationContext.Context, invocationContext.HubMethodName))
        {
            throw;
        }
        return result is not null && s_wrappers.GetOrAdd(invocationContext.HubMethod, WrapperFor) is { } wrap
            ? wrap(result, new ErrorContext(refusals, logger, invocationContext.Context, invocationContext.HubMethodName, HubInvocationOutcome.Current))
            : result;
    }

    private static Func<object, ErrorContext, object>? WrapperFor(MethodInfo method) =>
        HubStreams.ServerStreamItemType(method) is { } itemType
            ? s_wrap.MakeGenericMethod(itemType).CreateDelegate<Func<object, ErrorContext, object>>()
            : null;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "Bound to a Func<object, ErrorContext, object>.")]
    private static object Wrap<T>(object stream, ErrorContext context) => new ErrorMappingStream<T>((IAsyncEnumerable<T>)stream, context);
}

/// <summary>
/// What a stream's errors are mapped, counted and logged with. <paramref name="Invocation"/> is SignalR's activity of
/// the call, kept from when the filter ran: a step's error is mapped where the step completed, on whichever thread
/// completed it, where <see cref="System.Diagnostics.Activity.Current"/> need not be the call's.
/// </summary>
internal sealed record ErrorContext(Refusals Refusals, ILogger Logger, HubCallerContext Caller, string Method, System.Diagnostics.Activity? Invocation = null)
{
    public HubException From(SensorHubException error) => HubErrors.From(error, Refusals, Logger, Caller, Method, Invocation);

    public bool LogUnexpected(Exception error) => HubErrors.LogUnexpected(error, Logger, Caller, Method);
}
