using StackExchange.Redis;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// Where the feeds keep their state in Redis, under <see cref="RedisOptions.KeyPrefix"/> (P):
/// <list type="bullet">
/// <item><c>P feeds:meta</c> (hash): <c>sensors</c> (count), <c>published</c> (readings, cluster-wide), <c>runid</c> and
/// <c>gen</c> (the Redis run the sequences were last issued under, and how many runs there were), <c>hwm</c> (a floor
/// for the first sequence of a sensor registered anew), <c>changes</c> (sensors registered and removed, ever: the
/// number of the last message on the sensors' channel).</item>
/// <item><c>P feeds:ids</c> (sorted set, all scores 0): every sensor id, for pages by id (<c>ZRANGEBYLEX</c>).</item>
/// <item><c>P feeds:publishers</c> (hash): sensors per publisher, for the per-publisher cap.</item>
/// <item><c>P feeds:s:{id}</c> (hash): <c>name kind unit registrar first last gen lv lt at seen</c>.</item>
/// <item><c>P feeds:h:{id}</c> (stream): the readings, entry id <c>{sequence}-0</c>, fields <c>t</c> (UTC ticks) and <c>v</c>.</item>
/// <item>channel <c>P feeds:c:{id}</c>: each publish script's readings, in sequence order.</item>
/// <item>channel <c>P feeds:sensors</c>: <c>+{changes} {id}</c> when a sensor is registered, <c>-{changes} {id} {last}</c>
/// when one is removed, with its last sequence (the watches of <c>SubscribeMany</c>).</item>
/// </list>
/// </summary>
internal sealed class RedisFeedKeys(RedisConnection redis)
{
    public RedisKey Meta { get; } = redis.Key("feeds:meta");

    public RedisKey Ids { get; } = redis.Key("feeds:ids");

    public RedisKey Publishers { get; } = redis.Key("feeds:publishers");

    public RedisKey Sensor(string sensorId) => redis.Key("feeds:s:" + sensorId);

    public RedisKey History(string sensorId) => redis.Key("feeds:h:" + sensorId);

    public RedisChannel Channel(string sensorId) => redis.Channel("feeds:c:" + sensorId);

    /// <summary>The channel's name as a script's argument.</summary>
    public string ChannelName(string sensorId) => redis.Prefix + "feeds:c:" + sensorId;

    /// <summary>The channel where registrations and removals are announced.</summary>
    public RedisChannel Sensors { get; } = redis.Channel("feeds:sensors");

    /// <summary><see cref="Sensors"/>'s name as a script's argument.</summary>
    public string SensorsName { get; } = redis.Prefix + "feeds:sensors";
}
