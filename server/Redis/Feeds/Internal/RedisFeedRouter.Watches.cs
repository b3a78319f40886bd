using System.Globalization;
using SensorHub.Server.Feeds;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// The node's side of the sensors' channel (<see cref="RedisFeedKeys.Sensors"/>), for <c>SubscribeMany</c>'s watches:
/// the publish and register scripts announce each registration there, the idle removal each removal, each with the
/// number of the change (<c>changes</c> in <c>feeds:meta</c>). The node subscribes once, at its first watch, and stays
/// subscribed: one channel per node, whose messages are as rare as registrations, so leaving it would save nothing,
/// and coming back would need every watch to list again. A message is fanned out to the local watches whose prefix
/// matches. A watch gets a <see cref="SensorChangeKind.Resync"/> whenever the node may have missed a change: a jump
/// in the changes' numbers, the count in Redis still ahead of what the node heard a position check later (a lost last
/// message, a stalled connection), the count going back (Redis lost writes), or the pub/sub connection coming back.
/// </summary>
internal sealed partial class RedisFeedRouter
{
    private readonly Lock _watchLock = new();
    private RedisSensorWatch[] _watches = [];
    private ChannelMessageQueue? _sensorsQueue;
    private Task? _listening;
    // The number of the newest change the node heard (or read when it began to listen); -1 before it listens.
    private long _heard = -1;
    // The count of changes in Redis at the last position check.
    private long _changesObserved = -1;

    /// <summary>This node's watches now (for tests and diagnostics).</summary>
    internal int WatchCount => Volatile.Read(ref _watches).Length;

    /// <summary>
    /// Begins a watch of the sensors whose ids start with <paramref name="prefix"/>. The node's subscription to the
    /// sensors' channel is confirmed before this returns, so every registration and removal after it is announced to
    /// the watch (or, if the node misses one, a Resync is).
    /// </summary>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>: Redis cannot be reached.</exception>
    public async ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken)
    {
        Availability.ThrowIfUnavailable();
        var watch = new RedisSensorWatch(this, prefix);
        if (_shutdown.IsStopping)
        {
            watch.Complete();
            return watch;
        }
        try
        {
            await Listen().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw Availability.Failed(e);
        }
        lock (_watchLock)
            _watches = [.. _watches, watch];
        // After it is listed: a shutdown that began meanwhile either completed it with the others or is seen here.
        if (_shutdown.IsStopping)
            watch.Complete();
        watch.EndOn(Availability.Lost);
        return watch;
    }

    /// <summary>Takes a disposed watch off the node.</summary>
    public void Unwatch(RedisSensorWatch watch)
    {
        lock (_watchLock)
        {
            var index = Array.IndexOf(_watches, watch);
            if (index >= 0)
                _watches = [.. _watches.AsSpan(0, index), .. _watches.AsSpan(index + 1)];
        }
    }

    private Task Listen()
    {
        lock (_watchLock)
        {
            // A failed attempt is made again by the next watch; a subscription once made is kept.
            if (_listening is null || _listening.IsFaulted || _listening.IsCanceled)
                _listening = ListenAsync();
            return _listening;
        }
    }

    private async Task ListenAsync()
    {
        if (_sensorsQueue is null)
        {
            // Returns once Redis confirmed the subscription; one message at a time, in the channel's order.
            var queue = await _redis.Subscriber.SubscribeAsync(_keys.Sensors).ConfigureAwait(false);
            queue.OnMessage(message => OnSensorsMessage(message.Message));
            _sensorsQueue = queue;
            // Whatever was published while the pub/sub connection was down is lost to every channel.
            _redis.Multiplexer.ConnectionRestored += OnConnectionRestored;
        }
        // Read after the subscription is confirmed: every change numbered above it is heard (or missed, and caught).
        var changes = (long?)await _redis.Database.HashGetAsync(_keys.Meta, "changes").ConfigureAwait(false) ?? 0;
        lock (_watchLock)
        {
            if (_heard < 0)
                _heard = changes;
        }
        RedisFeedsLog.WatchingSensors(_logger, changes);
    }

    private void OnSensorsMessage(RedisValue message)
    {
        if (!TryParseChange(message, out var change, out var number, out var last))
        {
            RedisFeedsLog.BadSensorsMessage(_logger, (string?)message ?? "");
            return;
        }
        if (change.Kind == SensorChangeKind.Removed)
            ForgetShared(change.SensorId!, last + 1);
        RedisSensorWatch[] watches;
        long previous;
        lock (_watchLock)
        {
            // A change numbered at or below what the node heard was made before it began to listen, or before a
            // Resync that covered it: told all the same (a watch may get an Added for a sensor it listed, which is harmless).
            previous = _heard;
            _heard = Math.Max(_heard, number);
            watches = _watches;
        }
        if (previous >= 0 && number > previous + 1)
            Resync($"change {number.ToString(CultureInfo.InvariantCulture)} came after change {previous.ToString(CultureInfo.InvariantCulture)}");
        foreach (var watch in watches)
        {
            if (change.SensorId!.StartsWith(watch.Prefix, StringComparison.Ordinal))
                watch.Offer(change);
        }
    }

    /// <summary>
    /// Called at each position check with the count of changes in Redis: a count a check old that the node has still
    /// not heard was lost (or is stalled), and a count that went back means Redis lost writes.
    /// </summary>
    private void CheckChanges(long changes)
    {
        string? reason = null;
        lock (_watchLock)
        {
            if (_sensorsQueue is null || _heard < 0)
                return;
            var behind = _changesObserved;
            _changesObserved = changes;
            if (behind > _heard)
            {
                reason = $"Redis counted {behind.ToString(CultureInfo.InvariantCulture)} changes a check ago; this node heard up to {_heard.ToString(CultureInfo.InvariantCulture)}";
                _heard = behind;
            }
            else if (behind >= 0 && changes < behind)
            {
                reason = $"Redis's count of changes went back from {behind.ToString(CultureInfo.InvariantCulture)} to {changes.ToString(CultureInfo.InvariantCulture)}";
                _heard = changes;
            }
        }
        if (reason is not null)
            Resync(reason);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
            Resync("the pub/sub connection came back");
    }

    /// <summary>Tells every watch on the node to list its sensors again.</summary>
    private void Resync(string reason)
    {
        RedisSensorWatch[] watches;
        lock (_watchLock)
            watches = _watches;
        RedisFeedsLog.WatchesResync(_logger, watches.Length, reason);
        foreach (var watch in watches)
            watch.Offer(new SensorChange(SensorChangeKind.Resync, null));
    }

    /// <summary>
    /// A removed sensor's shared-buffer subscribers (attached below <paramref name="below"/>) get nothing more:
    /// readings under its id from now on are a new sensor's, which their streams subscribe to afresh once their watch
    /// reports it.
    /// </summary>
    private void ForgetShared(string sensorId, long below)
    {
        SensorChannel? channel;
        lock (_lock)
            _channels.TryGetValue(sensorId, out channel);
        if (channel is not null)
            Interlocked.Add(ref _subscriptions, -channel.DetachShared(below));
    }

    private void CompleteWatches()
    {
        RedisSensorWatch[] watches;
        lock (_watchLock)
            watches = _watches;
        foreach (var watch in watches)
            watch.Complete();
    }

    private void StopListening()
    {
        if (_sensorsQueue is not null && !_redis.IsKilled)
            _redis.Multiplexer.ConnectionRestored -= OnConnectionRestored;
    }

    /// <summary>
    /// A message of the sensors' channel: <c>+{number} {id}</c> (registered) or <c>-{number} {id} {last}</c> (removed,
    /// with its last sequence; <paramref name="last"/> is <see cref="long.MaxValue"/> - 1 when a removal does not say).
    /// Anything else (from a later version) is not understood and is left out; the count still shows it was missed.
    /// </summary>
    internal static bool TryParseChange(RedisValue message, out SensorChange change, out long number, out long last)
    {
        var text = ((string?)message ?? "").AsSpan();
        change = default;
        number = 0;
        last = long.MaxValue - 1;
        if (text.Length < 4 || text[0] is not ('+' or '-'))
            return false;
        var space = text.IndexOf(' ');
        if (space < 2 || space == text.Length - 1
            || !long.TryParse(text[1..space], NumberStyles.None, CultureInfo.InvariantCulture, out number))
            return false;
        var id = text[(space + 1)..];
        var end = id.IndexOf(' ');
        if (end >= 0)
        {
            if (text[0] != '-' || end == 0 || !long.TryParse(id[(end + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out last))
                return false;
            id = id[..end];
        }
        change = new SensorChange(text[0] == '+' ? SensorChangeKind.Added : SensorChangeKind.Removed, id.ToString());
        return true;
    }
}
