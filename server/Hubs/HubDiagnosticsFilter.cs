using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The one home of what a hub call is known by in traces and logs, outermost of the filters so that everything the
/// others log is inside it:
/// <list type="bullet">
/// <item>SignalR's activity of the call gets the connection's hub protocol (<see cref="SensorHubTelemetry.HubProtocol"/>);
/// a refusal's code is set on it by <see cref="HubErrors"/> (<see cref="HubInvocationOutcome"/>).</item>
/// <item>Every log written during the call, a stream's included until it ends, carries the call's fields
/// (<see cref="InvocationLogScope"/>): a client-to-server stream (<c>Publish</c>, <c>Upload</c>) runs inside this
/// filter's call; a server-to-client one runs later, in SignalR's flow, so each of its steps is run in the context
/// captured here (<see cref="CallContextStream{T}"/>).</item>
/// </list>
/// The invocation id and the protocol come from <see cref="InvocationOrigin"/>, set where the message was parsed.
/// </summary>
internal sealed class HubDiagnosticsFilter(ILogger<HubDiagnosticsFilter> logger) : IHubFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, MethodDiagnostics> s_methods = new();
    private static readonly MethodInfo s_wrap = typeof(HubDiagnosticsFilter).GetMethod(nameof(Wrap), BindingFlags.NonPublic | BindingFlags.Static)!;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = s_methods.GetOrAdd(invocationContext.HubMethod, MethodDiagnostics.Of);
        var origin = InvocationOrigin.Current;
        if (origin is not null)
            HubInvocationOutcome.Current?.SetTag(SensorHubTelemetry.HubProtocol, origin.Protocol);

        using var scope = logger.BeginScope(new InvocationLogScope(
            invocationContext.Context.ConnectionId, origin?.InvocationId, invocationContext.HubMethodName, method.Subject, invocationContext.HubMethodArguments));
        var result = await next(invocationContext);
        // Captured inside the scope; disposing the scope below only restores this flow, not the captured context.
        return result is not null && method.WrapServerStream is { } wrap && ExecutionContext.Capture() is { } context
            ? wrap(result, context)
            : result;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "Bound to a Func<object, ExecutionContext, object>.")]
    private static object Wrap<T>(object stream, ExecutionContext context) => new CallContextStream<T>((IAsyncEnumerable<T>)stream, context);

    /// <summary>What the filter needs of a hub method, read once from its signature.</summary>
    private sealed record MethodDiagnostics(InvocationLogScope.Subject Subject, Func<object, ExecutionContext, object>? WrapServerStream)
    {
        public static MethodDiagnostics Of(MethodInfo method) => new(
            InvocationLogScope.Subject.Of(method),
            HubStreams.ServerStreamItemType(method) is { } item ? s_wrap.MakeGenericMethod(item).CreateDelegate<Func<object, ExecutionContext, object>>() : null);
    }
}
