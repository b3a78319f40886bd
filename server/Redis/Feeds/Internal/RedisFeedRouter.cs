using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Telemetry;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// The node's side of the sensors' channels: it subscribes to a sensor's channel once for all its local subscribers,
/// and only while it has some (it leaves <see cref="RedisOptions.UnsubscribeDelay"/> after the last one), and offers
/// each reading to them without ever waiting for one. It keeps their order exact: a jump in a channel's sequences
/// (a lost message, a resubscription after the pub/sub connection dropped) is filled from the sensor's stream before
/// newer readings go out, and every <see cref="RedisOptions.PositionCheckInterval"/> it compares each followed sensor's
/// newest sequence in Redis with the newest that reached it, and reads from the stream what is still missing a check
/// later (a pub/sub connection that stalls without failing). The same check refreshes the cluster's counters. A
/// <c>SubscribeMany</c> stream's subscriptions share the same one channel per sensor with <c>Subscribe</c>'s, and the
/// node follows registrations and removals for its watches on one channel more (<c>RedisFeedRouter.Watches.cs</c>).
/// </summary>
internal sealed partial class RedisFeedRouter : BackgroundService
{
    private const int FillPage = 1_000;

    private readonly RedisConnection _redis;
    private readonly RedisFeedKeys _keys;
    private readonly RedisOptions _options;
    private readonly int _bufferCapacity;
    private readonly ShutdownSignal _shutdown;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisFeedRouter> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SensorChannel> _channels = new(StringComparer.Ordinal);
    private readonly CancellationTokenRegistration _onStopping;
    private readonly FeedTotals _totals;
    private readonly Histogram<double> _lag;
    private long _subscriptions;
    private long _clusterSensors;
    private long _clusterPublished;

    public RedisFeedRouter(
        RedisConnection redis,
        RedisAvailability availability,
        RedisFeedKeys keys,
        IOptions<RedisOptions> options,
        IOptions<FeedOptions> feedOptions,
        ShutdownSignal shutdown,
        TimeProvider time,
        FeedTotals totals,
        IMeterFactory meterFactory,
        ILogger<RedisFeedRouter> logger)
    {
        _redis = redis;
        _totals = totals;
        _lag = meterFactory.Create(SensorHubTelemetry.MeterName).CreateHistogram(
            LagInstrument, "s", "From a reading's publish on its node (that node's clock) to its fan-out on this node.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_lagBuckets });
        Availability = availability;
        _keys = keys;
        _options = options.Value;
        _bufferCapacity = feedOptions.Value.SubscriberBufferCapacity;
        _shutdown = shutdown;
        _time = time;
        _logger = logger;
        _onStopping = shutdown.Stopping.Register(CompleteAll);
    }

    public RedisAvailability Availability { get; }

    /// <summary>
    /// Whether the node's pub/sub connection is up: the one connection that carries every channel this router follows
    /// (and the sessions' and uploads' channels). Checked by the readiness check, without a round trip: true from the
    /// moment StackExchange.Redis has it connected, and it subscribes every channel again on it once it reconnects;
    /// what was published meanwhile reaches the subscribers through the jump fill and the position check.
    /// </summary>
    public bool IsListening => !_redis.IsKilled && _redis.Subscriber.IsConnected();

    /// <summary>
    /// The pub/sub lag histogram: from the moment the publishing node sent a message (its clock, carried in the
    /// message) to its fan-out here, one sample per message. Nodes' clocks are assumed in step (NTP): a skew between
    /// two nodes adds to or takes from every sample between them, and a sample below zero is recorded as zero.
    /// </summary>
    public const string LagInstrument = "sensorhub.redis.pubsub.lag";

    // Pub/sub is sub-millisecond on a LAN; seconds mean a stalled connection or clocks out of step.
    private static readonly double[] s_lagBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>This node's counters, with the cluster's sensors and readings as the last position check read them.</summary>
    public FeedCounters Counters => new(
        Volatile.Read(ref _clusterSensors), Volatile.Read(ref _clusterPublished), _totals.Delivered,
        _totals.Dropped, Volatile.Read(ref _subscriptions), _redis.NodeId);

    /// <summary>This node's subscribers to a sensor now (for tests and diagnostics).</summary>
    internal int SubscribersOf(string sensorId)
    {
        lock (_lock)
            return _channels.TryGetValue(sensorId, out var channel) ? channel.Count : 0;
    }

    /// <summary>
    /// Attaches a live buffer: the channel is confirmed first, then the sensor's newest sequence is read, so a reading
    /// is either in the stream at or below <see cref="IFeedSubscription.AttachedAfter"/> or reaches the buffer.
    /// </summary>
    /// <returns>The subscription, or <see langword="null"/> when the sensor is unknown.</returns>
    public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken) =>
        AttachAsync(sensorId, channel => new RedisLiveSubscription(this, channel, mode, _bufferCapacity), markSeen: true, cancellationToken);

    /// <summary>
    /// Attaches a sensor to a <c>SubscribeMany</c> stream's shared buffer, on the same channel subscription as the
    /// node's other subscribers to the sensor (so patterns cost one channel per sensor, not one per sensor and pattern),
    /// with the same seam. It does not mark the sensor seen: a pattern does not keep a sensor from idle removal.
    /// </summary>
    /// <returns>The subscription, or <see langword="null"/> when the sensor is unknown.</returns>
    public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken) =>
        AttachAsync(sensorId, channel => new RedisLiveSubscription(this, channel, buffer), markSeen: false, cancellationToken);

    private async ValueTask<IFeedSubscription?> AttachAsync(
        string sensorId, Func<SensorChannel, RedisLiveSubscription> make, bool markSeen, CancellationToken cancellationToken)
    {
        Availability.ThrowIfUnavailable();
        var channel = Hold(sensorId);
        RedisLiveSubscription? subscription = null;
        try
        {
            try
            {
                await channel.Subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
                var database = _redis.Database;
                // The kind is read once per channel, beside the position and in the same round trip.
                var kind = channel.Totals is null ? database.HashGetAsync(_keys.Sensor(sensorId), "kind") : null;
                var newest = await NewestAsync(database, sensorId, markSeen).ConfigureAwait(false);
                var kindValue = kind is null ? RedisValue.Null : await kind.ConfigureAwait(false);
                if (newest is not { } after)
                    return null;
                if (kind is not null)
                    channel.Totals ??= _totals.For((string?)kindValue ?? "device");
                subscription = make(channel);
                channel.Attach(subscription, after);
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                throw Availability.Failed(e);
            }
            Interlocked.Increment(ref _subscriptions);
            if (_shutdown.IsStopping)
                subscription.Complete();
            subscription.EndOn(Availability.Lost);
            return subscription;
        }
        finally
        {
            if (subscription is null)
                Release(channel);
        }
    }

    /// <summary>
    /// The sensor's newest sequence, or <see langword="null"/> when it is gone; with <paramref name="markSeen"/> through
    /// the <c>Seen</c> script, which also keeps it from idle removal (a subscriber with a buffer of its own).
    /// </summary>
    private async Task<long?> NewestAsync(IDatabase database, string sensorId, bool markSeen)
    {
        if (markSeen)
        {
            var seen = await database.ScriptEvaluateAsync(RedisFeedScripts.Seen, [_keys.Sensor(sensorId)]).ConfigureAwait(false);
            return seen.IsNull ? null : (long)seen;
        }
        return (long?)await database.HashGetAsync(_keys.Sensor(sensorId), "last").ConfigureAwait(false);
    }

    public void Detach(SensorChannel channel, RedisLiveSubscription subscription)
    {
        if (channel.Detach(subscription))
            Interlocked.Decrement(ref _subscriptions);
        Release(channel);
    }

    private SensorChannel Hold(string sensorId)
    {
        lock (_lock)
        {
            if (!_channels.TryGetValue(sensorId, out var channel))
            {
                channel = new SensorChannel(sensorId, _keys.Channel(sensorId));
                channel.Subscribed = SubscribeChannelAsync(channel);
                _channels[sensorId] = channel;
            }
            channel.Holders++;
            return channel;
        }
    }

    private async Task<ChannelMessageQueue> SubscribeChannelAsync(SensorChannel channel)
    {
        // Returns once Redis confirmed the subscription (StackExchange.Redis awaits the SUBSCRIBE's answer).
        var queue = await _redis.Subscriber.SubscribeAsync(channel.Channel).ConfigureAwait(false);
        // One message at a time, in the channel's order.
        queue.OnMessage(message => OnMessageAsync(channel, message.Message));
        RedisFeedsLog.Followed(_logger, channel.SensorId);
        return queue;
    }

    private void Release(SensorChannel channel)
    {
        lock (_lock)
        {
            if (--channel.Holders > 0)
                return;
        }
        _ = LeaveLaterAsync(channel);
    }

    /// <summary>Leaves the channel a moment after its last subscriber, unless another came meanwhile.</summary>
    private async Task LeaveLaterAsync(SensorChannel channel)
    {
        if (!channel.Subscribed.IsFaulted && !channel.Subscribed.IsCanceled)
        {
            try
            {
                await Task.Delay(_options.UnsubscribeDelay, _time).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }
        lock (_lock)
        {
            if (channel.Holders > 0 || channel.Closed)
                return;
            channel.Closed = true;
            _channels.Remove(channel.SensorId);
        }
        try
        {
            var queue = await channel.Subscribed.ConfigureAwait(false);
            if (!_redis.IsKilled)
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            RedisFeedsLog.Left(_logger, channel.SensorId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            // The subscription failed, or Redis is away: StackExchange.Redis drops the handler either way.
        }
    }

    private async Task OnMessageAsync(SensorChannel channel, RedisValue message)
    {
        Reading[] readings;
        long publishedTicks;
        try
        {
            readings = Parse(channel.SensorId, message, out publishedTicks);
        }
        catch (FormatException)
        {
            RedisFeedsLog.BadMessage(_logger, channel.SensorId);
            return;
        }
        if (readings.Length == 0)
            return;
        await channel.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var last = channel.LastFanned;
            if (last >= 0 && readings[0].Sequence > last + 1)
            {
                await ForgetSharedIfRenewedAsync(channel).ConfigureAwait(false);
                await FillAsync(channel, readings[0].Sequence - 1).ConfigureAwait(false);
            }
            channel.FanOut(readings);
        }
        finally
        {
            channel.Gate.Release();
        }
        // One sample per message (not per reading), taken once its readings are in the local buffers.
        if (publishedTicks > 0 && _lag.Enabled)
            _lag.Record(Math.Max(0, _time.GetUtcNow().UtcTicks - publishedTicks) / (double)TimeSpan.TicksPerSecond);
    }

    /// <summary>
    /// Before a jump is filled: when the sensor was removed and registered anew under the same id since the channel's
    /// last reading (its first sequence is above it), the readings to come are a new sensor's, and the
    /// <c>SubscribeMany</c> streams' subscriptions get none of them, even before the removal's announcement reaches
    /// the node (it travels on another channel); their streams subscribe to the new sensor when their watch reports it.
    /// A new sensor always starts with a jump (above <c>hwm</c>, which the removal raised past the old one's last), so only jumps need the look, and
    /// they are rare. Called under the channel's gate. A failure leaves the subscriptions to the announcement.
    /// </summary>
    private async Task ForgetSharedIfRenewedAsync(SensorChannel channel)
    {
        if (channel.Count == channel.OwnCount)
            return;
        try
        {
            // The new sensor's own subscribers attached at or above its first sequence minus one.
            if ((long?)await _redis.Database.HashGetAsync(_keys.Sensor(channel.SensorId), "first").ConfigureAwait(false) is { } first
                && first > channel.LastFanned)
                ForgetShared(channel.SensorId, first - 1);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            RedisFeedsLog.RenewalCheckFailed(_logger, channel.SensorId, e.Message);
        }
    }

    /// <summary>
    /// Reads from the sensor's stream what its subscribers have not been offered, up to <paramref name="through"/>,
    /// and offers it. Called under the channel's gate. A failure leaves the jump to each subscriber's cursor, which
    /// fills it from history in its turn.
    /// </summary>
    private async Task FillAsync(SensorChannel channel, long through)
    {
        try
        {
            var from = channel.LastFanned + 1;
            while (from <= through)
            {
                var entries = await _redis.Database.StreamRangeAsync(
                    _keys.History(channel.SensorId), $"{from}-0", $"{through}-0", FillPage).ConfigureAwait(false);
                if (entries.Length == 0)
                    break;
                var readings = RedisReadingHistory.ToReadings(channel.SensorId, entries);
                channel.FanOut(readings);
                RedisFeedsLog.Filled(_logger, channel.SensorId, readings.Count, from);
                from = readings[^1].Sequence + 1;
                if (entries.Length < FillPage)
                    break;
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            RedisFeedsLog.FillFailed(_logger, channel.SensorId, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.PositionCheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                await CheckPositionsAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The stall guard and the node's presence: for each followed sensor with subscribers, reads its newest sequence,
    /// and marks it seen (no sweep removes it) when one of them has a buffer of its own; what was in Redis a check ago
    /// and has still not reached the node is read from the stream. Also reads the cluster's counters, and the count of
    /// registrations and removals, which tells the watches whether they missed one.
    /// </summary>
    internal async Task CheckPositionsAsync()
    {
        if (_redis.IsKilled || !Availability.IsAvailable)
            return;
        SensorChannel[] followed;
        lock (_lock)
            followed = _channels.Values.Where(c => c.Count > 0 && c.Subscribed.IsCompletedSuccessfully).ToArray();
        try
        {
            var database = _redis.Database;
            var counters = database.HashGetAsync(_keys.Meta, ["sensors", "published", "changes"]);
            var newest = new Task<long?>[followed.Length];
            for (var i = 0; i < followed.Length; i++)
                newest[i] = NewestAsync(database, followed[i].SensorId, markSeen: followed[i].OwnCount > 0);
            var values = await counters.ConfigureAwait(false);
            Volatile.Write(ref _clusterSensors, (long?)values[0] ?? 0);
            Volatile.Write(ref _clusterPublished, (long?)values[1] ?? 0);
            CheckChanges((long?)values[2] ?? 0);
            for (var i = 0; i < followed.Length; i++)
            {
                if (await newest[i].ConfigureAwait(false) is { } result)
                    await CatchUpAsync(followed[i], result).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            RedisFeedsLog.CheckFailed(_logger, e.Message);
        }
    }

    private async Task CatchUpAsync(SensorChannel channel, long newest)
    {
        await channel.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // What Redis held a check ago and the channel has still not brought is not on its way: read it.
            var behind = channel.Observed;
            channel.Observed = newest;
            if (behind > channel.LastFanned && channel.LastFanned >= 0)
            {
                RedisFeedsLog.Stalled(_logger, channel.SensorId, channel.LastFanned, behind);
                await ForgetSharedIfRenewedAsync(channel).ConfigureAwait(false);
                await FillAsync(channel, newest).ConfigureAwait(false);
            }
        }
        finally
        {
            channel.Gate.Release();
        }
    }

    private void CompleteAll()
    {
        SensorChannel[] all;
        lock (_lock)
            all = [.. _channels.Values];
        foreach (var channel in all)
            channel.CompleteAll();
        CompleteWatches();
    }

    public override void Dispose()
    {
        _onStopping.Dispose();
        StopListening();
        base.Dispose();
    }

    /// <summary>A channel message, without the publish time it may carry.</summary>
    internal static Reading[] Parse(string sensorId, RedisValue message) => Parse(sensorId, message, out _);

    /// <summary>
    /// A channel message: <c>@</c> and the publishing node's clock (UTC ticks) when it sent it, then the first sequence,
    /// then ticks and value per reading, separated by spaces. A message without the <c>@</c> part (from a node of an
    /// earlier version) is read too, and gives <paramref name="publishedTicks"/> 0.
    /// </summary>
    internal static Reading[] Parse(string sensorId, RedisValue message, out long publishedTicks)
    {
        var text = ((string?)message ?? "").AsSpan();
        publishedTicks = 0;
        if (text.StartsWith('@'))
        {
            var end = text.IndexOf(' ');
            if (end <= 1)
                throw new FormatException("No publish time.");
            publishedTicks = long.Parse(text[1..end], NumberStyles.None, CultureInfo.InvariantCulture);
            text = text[(end + 1)..];
        }
        var space = text.IndexOf(' ');
        if (space <= 0)
            throw new FormatException("No sequence.");
        var first = long.Parse(text[..space], NumberStyles.None, CultureInfo.InvariantCulture);
        text = text[(space + 1)..];
        var readings = new List<Reading>();
        while (!text.IsEmpty)
        {
            var t = text.IndexOf(' ');
            if (t <= 0)
                throw new FormatException("No value.");
            var ticks = long.Parse(text[..t], NumberStyles.None, CultureInfo.InvariantCulture);
            text = text[(t + 1)..];
            var v = text.IndexOf(' ');
            var valueText = v < 0 ? text : text[..v];
            text = v < 0 ? [] : text[(v + 1)..];
            readings.Add(new Reading
            {
                SensorId = sensorId,
                Sequence = first + readings.Count,
                Timestamp = new DateTime(ticks, DateTimeKind.Utc),
                Value = double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            });
        }
        return [.. readings];
    }
}
