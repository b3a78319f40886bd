using System.Globalization;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// History from each sensor's Redis stream, whose entry ids are <c>{sequence}-0</c>: a page from a sequence is one
/// <c>XRANGE</c>. A read that fails while Redis may still come back (within the grace period) is tried again, so a
/// replay waits out a short outage and goes on; once the node gives up on Redis it fails with <c>backend_unavailable</c>.
/// </summary>
internal sealed class RedisReadingHistory(RedisConnection redis, RedisAvailability availability, RedisFeedKeys keys, TimeProvider time) : IReadingHistory
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    public async ValueTask<IReadOnlyList<Reading>> ReadAsync(string sensorId, long fromSequence, int maxCount, CancellationToken cancellationToken)
    {
        if (maxCount <= 0)
            return [];
        var from = fromSequence <= 0 ? (RedisValue)"-" : (RedisValue)$"{fromSequence}-0";
        while (true)
        {
            availability.ThrowIfUnavailable();
            try
            {
                var entries = await redis.Database.StreamRangeAsync(keys.History(sensorId), from, "+", maxCount)
                    .WaitAsync(cancellationToken).ConfigureAwait(false);
                return ToReadings(sensorId, entries);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                await Task.Delay(RetryDelay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stream entries as readings: the sequence from the entry id, <c>t</c> in UTC ticks, <c>v</c> the value.</summary>
    public static List<Reading> ToReadings(string sensorId, StreamEntry[] entries)
    {
        var readings = new List<Reading>(entries.Length);
        foreach (var entry in entries)
        {
            var id = ((string?)entry.Id)!;
            var dash = id.IndexOf('-', StringComparison.Ordinal);
            var values = entry.Values;
            readings.Add(new Reading
            {
                SensorId = sensorId,
                Sequence = long.Parse(id.AsSpan(0, dash < 0 ? id.Length : dash), NumberStyles.None, CultureInfo.InvariantCulture),
                Timestamp = new DateTime((long)values[0].Value, DateTimeKind.Utc),
                Value = (double)values[1].Value,
            });
        }
        return readings;
    }
}
