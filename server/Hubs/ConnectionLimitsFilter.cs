using System.Collections.Concurrent;
using System.Reflection;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Uploads;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The one home of per-connection limits, and of the counts that go with them: it takes what a call needs from its
/// connection before the method runs and gives it back when the call or its stream ends.
/// <list type="bullet">
/// <item>Streams of both directions count against <see cref="HubLimitsOptions.MaxStreamsPerConnection"/>
/// (SignalR's <c>MaximumParallelInvocationsPerClient</c> counts neither): a server-to-client stream until SignalR
/// disposes it, a client-to-server one (<c>Publish</c>, <c>Upload</c>) until its method returns.</item>
/// <item>An <see cref="UploadSlotAttribute">upload</see> also holds one of <see cref="UploadOptions.MaxUploadsPerConnection"/>.</item>
/// <item>A method that <see cref="CreatesAttribute">creates</see> takes a permit of the connection's creation budget.</item>
/// <item>Connections and running server-to-client streams are counted in <see cref="HubActivity"/>.</item>
/// </list>
/// Readings and new sensors are limited per item, inside <c>Publish</c>, by the connection's budgets (<see cref="ConnectionLimits"/>).
/// </summary>
internal sealed class ConnectionLimitsFilter(
    HubActivity activity,
    ConnectionRates rates,
    IOptions<HubLimitsOptions> limits,
    IOptions<UploadOptions> uploads,
    ILogger<ConnectionLimitsFilter> logger) : IHubFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, MethodLimits> s_methods = new();
    private static readonly MethodInfo s_wrap = typeof(ConnectionLimitsFilter).GetMethod(nameof(Wrap), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly int _maxStreams = limits.Value.MaxStreamsPerConnection;
    private readonly int _maxUploads = uploads.Value.MaxUploadsPerConnection;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = s_methods.GetOrAdd(invocationContext.HubMethod, MethodLimits.Of);
        var context = invocationContext.Context;
        var connection = ConnectionLimits.Of(context);
        if (method.Creates)
            TakeCreation(connection, context.ConnectionId, invocationContext.HubMethodName);
        if (method.WrapServerStream is null && !method.TakesClientStream)
            return await next(invocationContext);

        TakeStream(connection, context.ConnectionId, invocationContext.HubMethodName);
        if (method.WrapServerStream is { } wrap)
            return await ServerStreamAsync(invocationContext, next, connection, wrap);

        var uploadSlot = method.TakesUploadSlot;
        if (uploadSlot && !connection.Uploads.TryTake(_maxUploads))
        {
            connection.Streams.Release();
            throw new SensorHubException(
                SensorHubErrors.TooManyUploads, $"Too many uploads at once: this connection already runs {_maxUploads}, the most allowed.");
        }
        try
        {
            return await next(invocationContext);
        }
        finally
        {
            if (uploadSlot)
                connection.Uploads.Release();
            connection.Streams.Release();
        }
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        ConnectionLimits.Attach(context.Context, rates);
        await next(context);
        activity.ConnectionOpened(context.Context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        activity.ConnectionClosed(context.Context);
        await next(context, exception);
    }

    private async ValueTask<object?> ServerStreamAsync(
        HubInvocationContext invocationContext,
        Func<HubInvocationContext, ValueTask<object?>> next,
        ConnectionLimits connection,
        Func<object, StreamLease, object> wrap)
    {
        var lease = new StreamLease(connection.Streams, activity, invocationContext.HubMethodName);
        try
        {
            var stream = await next(invocationContext);
            if (stream is null)
            {
                lease.Release();
                return null;
            }
            return wrap(stream, lease);
        }
        catch
        {
            lease.Release();
            throw;
        }
    }

    private void TakeStream(ConnectionLimits connection, string connectionId, string method)
    {
        if (connection.Streams.TryTake(_maxStreams))
            return;
        HubLog.StreamRefused(logger, connectionId, method, _maxStreams);
        throw new SensorHubException(
            SensorHubErrors.TooManyStreams,
            $"Too many open streams: this connection already holds {_maxStreams}, the most allowed. End one before starting another.");
    }

    private void TakeCreation(ConnectionLimits connection, string connectionId, string method)
    {
        using var lease = connection.Creations.AttemptAcquire();
        if (lease.IsAcquired)
            return;
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : limits.Value.CreationRatePeriod;
        HubLog.CreationRefused(logger, connectionId, method);
        throw new SensorHubException(
            SensorHubErrors.RateLimited,
            $"Too many calls that create things on this connection: at most {limits.Value.CreationRateLimit} per " +
            $"{limits.Value.CreationRatePeriod.TotalSeconds:0.###} s ({method} is one); {SensorHubErrors.RetryAfterText(wait)}");
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "Bound to a Func<object, StreamLease, object>.")]
    private static object Wrap<T>(object stream, StreamLease lease) => new LeasedStream<T>((IAsyncEnumerable<T>)stream, lease);

    /// <summary>What a hub method takes from its connection, read once from its signature and attributes.</summary>
    private sealed record MethodLimits(Func<object, StreamLease, object>? WrapServerStream, bool TakesClientStream, bool TakesUploadSlot, bool Creates)
    {
        public static MethodLimits Of(MethodInfo method) => new(
            HubStreams.ServerStreamItemType(method) is { } item ? s_wrap.MakeGenericMethod(item).CreateDelegate<Func<object, StreamLease, object>>() : null,
            HubStreams.TakesClientStream(method),
            method.IsDefined(typeof(UploadSlotAttribute)),
            method.IsDefined(typeof(CreatesAttribute)));
    }
}
