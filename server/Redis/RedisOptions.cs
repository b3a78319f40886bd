using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Redis;

/// <summary>
/// Settings of the Redis engine, bound from <c>SensorHub:Redis</c>. With <see cref="Configuration"/> set the node keeps
/// its sensors, history, sessions and upload coordination in Redis and behaves as one with every other node on the same
/// Redis and <see cref="KeyPrefix"/>; unset, it runs on the in-memory engine alone.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c> or
    /// <c>redis1:6379,password=…,ssl=true</c> (see StackExchange.Redis's "Configuration" documentation). Unset: the
    /// in-memory engine. Default unset.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Put before every key and channel name, so that several SensorHub clusters (or tests) can share one Redis.
    /// Nodes of one cluster must use the same one. Default <c>sensorhub:</c>.
    /// </summary>
    [Required, RegularExpression(@"^[A-Za-z0-9:_\-\.]{1,64}$", ErrorMessage = "KeyPrefix takes 1 to 64 letters, digits, ':', '_', '-' or '.'.")]
    public string KeyPrefix { get; set; } = "sensorhub:";

    /// <summary>
    /// How long Redis may be unreachable before the node gives up on it: every live stream on the node then ends with
    /// a <c>backend_unavailable</c> error, new subscriptions and publishes are refused at once, and
    /// <c>GET /healthz/ready</c> answers 503 until Redis is back. Shorter outages are ridden out: streams wait and
    /// catch up from Redis once it answers again. Default 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the node renews its heartbeat in Redis. Default 5 seconds; at most a third of <see cref="NodeTimeout"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan NodeHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node's heartbeat lives. A node that stops renewing it (killed, cut off) is dead once it expires:
    /// the others then take its members out of their sessions. (Its upload write slots are leases of their own, which
    /// end after <c>UploadLease</c>.) Default 15 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:10:00")]
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a node stays subscribed to a sensor's channel after its last local subscriber left, so that a client
    /// that resubscribes at once (a page reload, a reconnect) does not make it unsubscribe and subscribe again.
    /// Default 2 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan UnsubscribeDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the node compares, for each sensor it follows, the newest sequence in Redis with the newest that
    /// reached it over pub/sub, and reads what it missed from the sensor's stream: the guard against a pub/sub
    /// connection that stalls without failing. Default 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PositionCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an upload's write lease lives in Redis. The node writing an upload renews it every third of this while
    /// it writes; a writer that stops renewing it (killed, cut off from Redis) stops writing before it runs out, and
    /// once it has run out another node may resume the upload. Default 15 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.300", "00:10:00")]
    public TimeSpan UploadLease { get; set; } = TimeSpan.FromSeconds(15);
}

[OptionsValidator]
internal sealed partial class RedisOptionsValidator : IValidateOptions<RedisOptions>;

/// <summary>The rules between settings that attributes cannot state.</summary>
internal sealed class RedisOptionsRules : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        if (options.NodeHeartbeat * 3 > options.NodeTimeout)
        {
            return ValidateOptionsResult.Fail(
                $"SensorHub:Redis:NodeHeartbeat ({options.NodeHeartbeat}) must be at most a third of NodeTimeout ({options.NodeTimeout}), " +
                "so that a live node renews its heartbeat at least twice before it could expire.");
        }
        if (options.Configuration is { } configuration)
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(configuration);
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail($"SensorHub:Redis:Configuration is not a StackExchange.Redis configuration string: {e.Message}");
            }
        }
        return ValidateOptionsResult.Success;
    }
}
