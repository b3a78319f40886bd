using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SensorHub.Server.Hubs;

namespace SensorHub.Server.Shutdown;

/// <summary>
/// The hub's part of a graceful stop, run when the host begins to stop and before SignalR closes its connections:
/// it raises the <see cref="ShutdownSignal"/> (new hub requests get 503, every stream source completes its streams),
/// waits until no server-to-client stream runs, then asks every hub connection to close with reconnecting allowed and
/// waits until they have closed; all of it bounded by <see cref="HubShutdownOptions.ShutdownDrainTimeout"/>. Whatever
/// is left then is SignalR's to close, as before.
/// </summary>
/// <remarks>
/// SignalR's connection manager closes every connection it knows, without waiting for what they still have to send,
/// in an <c>ApplicationStopping</c> callback of its own, which it registers when <c>MapHub</c> runs. Callbacks run last
/// registered first, so the drain, registered once the app has started, runs before it; and since callbacks run one
/// after another, the drain blocks until it is done. SignalR closes only the connections it has at that moment and
/// stops its heartbeat: a client that got back in afterwards kept its WebSocket request, and the host's stop, open
/// until the host's shutdown timeout. That is why the drain refuses new requests first and closes, by itself, every
/// connection that opens while it runs.
/// </remarks>
internal sealed class HubDrain(ShutdownSignal signal, HubActivity activity, IOptions<HubShutdownOptions> options, ILogger<HubDrain> logger)
{
    /// <summary>
    /// SignalR gives a stream's place in the counts back when it disposes the stream, just before it writes the
    /// stream's completion; asking a connection to close drops writes not yet begun. This lets those writes go first.
    /// </summary>
    private static readonly TimeSpan CompletionWrites = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Hub connections whose transport has not closed yet, by connection id.</summary>
    private readonly ConcurrentDictionary<string, HubCallerContext> _open = new(StringComparer.Ordinal);

    /// <summary>
    /// A hub connection has opened. It is forgotten once its transport has closed, not when the hub lets go of it, so
    /// that the drain also waits for the close handshakes. One that opens while the server stops is closed at once.
    /// </summary>
    public void Opened(HubCallerContext connection)
    {
        // A connection without this feature (none over SignalR's HTTP transports) is left to SignalR to close.
        if (connection.Features.Get<IConnectionLifetimeFeature>() is not { } lifetime)
            return;
        _open[connection.ConnectionId] = connection;
        lifetime.ConnectionClosed.Register(static state =>
        {
            var (open, id) = ((ConcurrentDictionary<string, HubCallerContext>, string))state!;
            open.TryRemove(id, out _);
        }, (_open, connection.ConnectionId));
        // After it is listed: either the drain's sweep sees it, or it sees that the drain has begun.
        if (signal.IsStopping)
        {
            ShutdownLog.LateConnection(logger, connection.ConnectionId);
            RequestClose(connection);
        }
    }

    /// <summary>The drain itself; blocks its caller, the host's stopping thread, until done or out of time.</summary>
    public void Run()
    {
        var timeout = options.Value.ShutdownDrainTimeout;
        var started = Stopwatch.GetTimestamp();
        ShutdownLog.Draining(logger, activity.ActiveStreams, _open.Count, timeout);

        signal.Raise();
        if (WaitUntil(() => activity.ActiveStreams == 0, started, timeout) && !_open.IsEmpty)
            SleepAtMost(CompletionWrites, started, timeout);
        foreach (var connection in _open.Values)
            RequestClose(connection);
        if (WaitUntil(() => _open.IsEmpty, started, timeout))
            ShutdownLog.Drained(logger, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        else
            ShutdownLog.DrainTimedOut(logger, timeout, activity.ActiveStreams, _open.Count);
    }

    /// <summary>
    /// Closes the connection as SignalR does when a token expires: the hub sends its close message with reconnecting
    /// allowed after what it has already written, and the transport closes cleanly, so that a client goes to another node.
    /// </summary>
    private static void RequestClose(HubCallerContext connection)
    {
        if (connection.Features.Get<IConnectionLifetimeNotificationFeature>() is { } notification)
            notification.RequestClose();
        else
            connection.Abort();
    }

    private static bool WaitUntil(Func<bool> condition, long started, TimeSpan timeout)
    {
        while (!condition())
        {
            if (!SleepAtMost(PollInterval, started, timeout))
                return condition();
        }
        return true;
    }

    /// <summary>Sleeps for <paramref name="interval"/> or what is left of the drain's time; false when none was left.</summary>
    private static bool SleepAtMost(TimeSpan interval, long started, TimeSpan timeout)
    {
        var remaining = timeout - Stopwatch.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero)
            return false;
        Thread.Sleep(interval < remaining ? interval : remaining);
        return true;
    }
}
