using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// The feed engine on Redis: every node on the same Redis and key prefix sees the same sensors, sequences and history.
/// A publish is one script (registration within the caps, sequences, <c>XADD</c>, <c>PUBLISH</c>); live readings reach
/// this node's subscribers through <see cref="RedisFeedRouter"/>. A command whose outcome is unknown (the connection
/// dropped after it was sent) is never sent again: it fails with <c>backend_unavailable</c>.
/// </summary>
internal sealed class RedisFeedEngine(
    RedisConnection redis,
    RedisAvailability availability,
    RedisFeedRouter router,
    RedisFeedKeys keys,
    IOptions<FeedOptions> options,
    FeedTotals totals,
    TimeProvider time,
    ILogger<RedisFeedEngine> logger) : IFeedEngine
{
    private const int SweepPage = 500;
    private readonly FeedOptions _options = options.Value;

    public async ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        var added = await EvaluateAsync(
            RedisFeedScripts.Register,
            [keys.Meta, keys.Sensor(sensor.Id), keys.Ids, keys.Publishers],
            [sensor.Id, sensor.Name, sensor.Kind, sensor.Unit is null ? "0" : "1", sensor.Unit ?? "", keys.SensorsName]).ConfigureAwait(false);
        if ((int)added == 1)
            RedisFeedsLog.SensorRegistered(logger, sensor.Id, sensor.Kind);
    }

    public async ValueTask<PublishOutcome> PublishAsync(
        string sensorId, double value, DateTime timestampUtc, SensorRegistration registration, CancellationToken cancellationToken)
    {
        var outcome = await PublishManyAsync(sensorId, new[] { new ReadingValue(value, timestampUtc) }, registration, cancellationToken).ConfigureAwait(false);
        if (outcome.Published == 0)
            return new PublishOutcome(outcome.Status, null);
        return new PublishOutcome(outcome.Status, new Reading
        {
            SensorId = sensorId,
            Sequence = outcome.FirstSequence,
            Timestamp = timestampUtc,
            Value = value,
        });
    }

    public async ValueTask<PublishManyOutcome> PublishManyAsync(
        string sensorId, ReadOnlyMemory<ReadingValue> readings, SensorRegistration registration, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        if (readings.IsEmpty)
            return new PublishManyOutcome(PublishStatus.Published, 0, 0);
        var arguments = new RedisValue[9 + 2 * readings.Length];
        arguments[0] = sensorId;
        arguments[1] = !registration.Allowed ? "n" : registration.PublisherId is null ? "s" : "p";
        arguments[2] = registration.PublisherId ?? "";
        arguments[3] = _options.MaxSensors;
        arguments[4] = _options.MaxSensorsPerPublisher;
        arguments[5] = _options.HistoryCapacity;
        arguments[6] = keys.ChannelName(sensorId);
        // Travels in the channel's message: the receiving nodes measure the pub/sub lag from it (RedisFeedRouter.LagInstrument).
        arguments[7] = time.GetUtcNow().UtcTicks;
        // Where a registration is announced: only a publish that registers the sensor publishes there.
        arguments[8] = keys.SensorsName;
        var span = readings.Span;
        for (var i = 0; i < span.Length; i++)
        {
            arguments[9 + 2 * i] = span[i].TimestampUtc.Ticks;
            arguments[10 + 2 * i] = span[i].Value.ToString("R", CultureInfo.InvariantCulture);
        }
        // Not cancellable once sent: a publish abandoned half way would have an unknown outcome.
        var result = (RedisResult[])(await EvaluateAsync(
            RedisFeedScripts.Publish,
            [keys.Meta, keys.Sensor(sensorId), keys.History(sensorId), keys.Ids, keys.Publishers],
            arguments).ConfigureAwait(false))!;
        var status = (int)result[0] switch
        {
            0 => PublishStatus.Published,
            1 => PublishStatus.Registered,
            2 => PublishStatus.UnknownSensor,
            3 => PublishStatus.TooManySensors,
            _ => PublishStatus.TooManySensorsForPublisher,
        };
        if (status == PublishStatus.Registered)
            RedisFeedsLog.SensorRegistered(logger, sensorId, "device");
        var published = status is PublishStatus.Published or PublishStatus.Registered ? readings.Length : 0;
        // Counted under this node's totals: the cluster's total is Redis's (meta's published), read by the router.
        if (published > 0)
            totals.For((string?)result[2] ?? "device").Published.Add(published);
        return new PublishManyOutcome(status, published > 0 ? (long)result[1] : 0, published);
    }

    public async ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        try
        {
            var fields = await redis.Database.HashGetAsync(keys.Sensor(sensorId), SensorFields).WaitAsync(cancellationToken).ConfigureAwait(false);
            return ToSensorInfo(sensorId, fields);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw availability.Failed(e);
        }
    }

    public async ValueTask<SensorPage> ListSensorsAsync(
        string prefix, string? after, int limit, Predicate<string>? visible, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        availability.ThrowIfUnavailable();
        try
        {
            var database = redis.Database;
            // One more than asked says whether another page follows.
            var ids = new List<string>(Math.Min(limit + 1, 64));
            var lower = after is not null && string.CompareOrdinal(after, prefix) > 0 ? after : prefix;
            var exclusive = after is not null && string.CompareOrdinal(after, prefix) >= 0;
            // Ids are ASCII: every id that starts with the prefix sorts below the prefix followed by byte 0xFF.
            RedisValue upper = prefix.Length == 0 ? default : (RedisValue)(byte[])[.. Encoding.ASCII.GetBytes(prefix), 0xFF];
            var chunk = Math.Min(visible is null ? limit + 1 : Math.Max(limit + 1, 100), 1_000);
            while (ids.Count <= limit)
            {
                RedisValue min = lower.Length == 0 ? default : lower;
                var page = await database.SortedSetRangeByValueAsync(
                    keys.Ids, min, upper, exclusive ? Exclude.Start : Exclude.None, Order.Ascending, 0, chunk).WaitAsync(cancellationToken).ConfigureAwait(false);
                foreach (var value in page)
                {
                    var id = (string)value!;
                    if (visible is null || visible(id))
                        ids.Add(id);
                    if (ids.Count > limit)
                        break;
                }
                if (page.Length < chunk)
                    break;
                (lower, exclusive) = ((string)page[^1]!, true);
            }
            var shown = Math.Min(ids.Count, limit);
            var reads = new Task<RedisValue[]>[shown];
            for (var i = 0; i < shown; i++)
                reads[i] = database.HashGetAsync(keys.Sensor(ids[i]), SensorFields);
            var sensors = new List<SensorInfo>(shown);
            for (var i = 0; i < shown; i++)
            {
                // A sensor removed as idle since its id was read is left out; the page stays in order.
                if (ToSensorInfo(ids[i], await reads[i].WaitAsync(cancellationToken).ConfigureAwait(false)) is { } info)
                    sensors.Add(info);
            }
            return new SensorPage { Sensors = sensors.ToArray(), Next = ids.Count > limit ? ids[limit - 1] : null };
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw availability.Failed(e);
        }
    }

    public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken) =>
        router.SubscribeAsync(sensorId, mode, cancellationToken);

    public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken) =>
        router.SubscribeAsync(sensorId, buffer, cancellationToken);

    public ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken) =>
        router.WatchSensorsAsync(prefix, cancellationToken);

    public async ValueTask<int> RemoveIdleSensorsAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        var database = redis.Database;
        var removed = 0;
        RedisValue after = default;
        while (true)
        {
            var page = await database.SortedSetRangeByValueAsync(
                keys.Ids, after, default, after.IsNull ? Exclude.None : Exclude.Start, Order.Ascending, 0, SweepPage).WaitAsync(cancellationToken).ConfigureAwait(false);
            var checks = new Task<RedisResult>[page.Length];
            for (var i = 0; i < page.Length; i++)
            {
                var id = (string)page[i]!;
                checks[i] = database.ScriptEvaluateAsync(
                    RedisFeedScripts.RemoveIdle,
                    [keys.Meta, keys.Sensor(id), keys.History(id), keys.Ids, keys.Publishers],
                    [id, (long)idleFor.TotalMilliseconds, keys.SensorsName]);
            }
            for (var i = 0; i < page.Length; i++)
            {
                if ((int)await checks[i].ConfigureAwait(false) == 1)
                {
                    removed++;
                    RedisFeedsLog.SensorRemoved(logger, (string)page[i]!, idleFor);
                }
            }
            if (page.Length < SweepPage)
                return removed;
            after = page[^1];
        }
    }

    public FeedCounters GetCounters() => router.Counters;

    private static readonly RedisValue[] SensorFields = ["name", "kind", "unit", "first", "last", "lv", "lt"];

    private static SensorInfo? ToSensorInfo(string sensorId, RedisValue[] fields)
    {
        if (fields[3].IsNull)
            return null;
        var hasReading = !fields[5].IsNull;
        return new SensorInfo
        {
            Id = sensorId,
            Name = (string?)fields[0] ?? sensorId,
            Kind = (string?)fields[1] ?? "device",
            Unit = (string?)fields[2],
            FirstSequence = (long)fields[3],
            LastSequence = hasReading ? (long)fields[4] : 0,
            LastValue = hasReading ? (double)fields[5] : null,
            LastTimestamp = hasReading ? new DateTime((long)fields[6], DateTimeKind.Utc) : null,
        };
    }

    /// <summary>
    /// Runs a script once. A failure is <c>backend_unavailable</c>; whether a script that was sent ran is then unknown,
    /// and it is not sent again (StackExchange.Redis resends only what it never wrote, and a script Redis did not know,
    /// which did not run).
    /// </summary>
    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] scriptKeys, RedisValue[] arguments)
    {
        try
        {
            return await redis.Database.ScriptEvaluateAsync(script, scriptKeys, arguments).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("2^53", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The sensor has used every sequence below 2^53.", e);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw availability.Failed(e);
        }
    }
}
