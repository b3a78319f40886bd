using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

/// <summary>
/// Wraps every hub invocation. It refuses a call whose method <see cref="RequiresAttribute">requires</see> a
/// permission the caller lacks, counts connections, caps the server-to-client streams one connection holds open
/// (SignalR's <c>MaximumParallelInvocationsPerClient</c> does not count streams), counts running stream generators
/// until SignalR disposes them, and turns a <see cref="SensorHubException"/> (a caller's mistake) into a
/// <see cref="HubException"/>, whose message SignalR passes on to the client as it is.
/// </summary>
internal sealed class StreamTrackingFilter(HubActivity activity, IOptions<HubLimitsOptions> options, ILogger<StreamTrackingFilter> logger)
    : IHubFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Func<object, StreamLease, object>?> s_wrappers = new();
    private static readonly ConcurrentDictionary<MethodInfo, RequiresAttribute?> s_requirements = new();
    private static readonly MethodInfo s_wrap = typeof(StreamTrackingFilter).GetMethod(nameof(Wrap), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly int _limit = options.Value.MaxStreamsPerConnection;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (s_requirements.GetOrAdd(invocationContext.HubMethod, m => m.GetCustomAttribute<RequiresAttribute>()) is { } required
            && !SensorHubUser.From(invocationContext.Context.User).Has(required.Permission))
        {
            throw HubErrors.Create(
                SensorHubErrors.NotAllowed,
                $"Not allowed: {invocationContext.HubMethodName} needs the {string.Join(" or ", Roles.Granting(required.Permission))} role.");
        }

        var wrap = s_wrappers.GetOrAdd(invocationContext.HubMethod, WrapperFor);
        if (wrap is null)
        {
            try
            {
                return await next(invocationContext);
            }
            catch (SensorHubException ex)
            {
                throw HubErrors.From(ex);
            }
        }

        var streams = ConnectionSlots.Of(invocationContext.Context).Streams;
        if (!streams.TryTake(_limit))
        {
            HubLog.StreamRefused(logger, invocationContext.Context.ConnectionId, invocationContext.HubMethodName, _limit);
            throw HubErrors.Create(
                SensorHubErrors.TooManyStreams,
                $"Too many open streams: this connection already holds {_limit}, the most allowed. End one before starting another.");
        }

        activity.StreamStarted();
        var lease = new StreamLease(streams, activity);
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
        catch (SensorHubException ex)
        {
            lease.Release();
            throw HubErrors.From(ex);
        }
        catch
        {
            lease.Release();
            throw;
        }
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        ConnectionSlots.Attach(context.Context);
        await next(context);
        activity.ConnectionOpened();
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        activity.ConnectionClosed();
        await next(context, exception);
    }

    private static Func<object, StreamLease, object>? WrapperFor(MethodInfo method)
    {
        var returnType = method.ReturnType;
        if (!returnType.IsGenericType || returnType.GetGenericTypeDefinition() != typeof(IAsyncEnumerable<>))
            return null;
        return s_wrap.MakeGenericMethod(returnType.GetGenericArguments()[0]).CreateDelegate<Func<object, StreamLease, object>>();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "Bound to a Func<object, StreamLease, object>.")]
    private static object Wrap<T>(object stream, StreamLease lease) => new TrackedStream<T>((IAsyncEnumerable<T>)stream, lease);

    /// <summary>One running stream's place in the counts, given back exactly once.</summary>
    internal sealed class StreamLease
    {
        private readonly SlotCounter _streams;
        private readonly HubActivity _activity;
        private int _released;

        public StreamLease(SlotCounter streams, HubActivity activity)
        {
            _streams = streams;
            _activity = activity;
        }

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
                return;
            _streams.Release();
            _activity.StreamEnded();
        }
    }
}
