using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Mqtt;

/// <summary>
/// The MQTT ingest, bound from <c>SensorHub:Mqtt</c>: readings taken from topics of an MQTT 5 broker and published as a
/// device's <c>Publish</c> would be. Off unless <see cref="Topics"/> lists at least one filter.
/// </summary>
public sealed class MqttIngestOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Mqtt";

    /// <summary>The broker's host name or address. Required when <see cref="Topics"/> is set.</summary>
    public string? Host { get; set; }

    /// <summary>The broker's TCP port. Default 1883 (use 8883, MQTT over TLS's port, with <see cref="UseTls"/>).</summary>
    [Range(1, 65_535)]
    public int Port { get; set; } = 1883;

    /// <summary>
    /// The MQTT topic filters to subscribe to (<c>+</c> and <c>#</c> allowed, as MQTT defines them), each at QoS 1.
    /// Default none: the ingest is off and connects to nothing.
    /// </summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>
    /// Removed from the start of a message's topic to make its sensor id (<c>sensors/</c>: topic
    /// <c>sensors/plant-1/t1</c> is sensor <c>plant-1/t1</c>). A topic that does not start with it keeps its whole
    /// name. Default none: the sensor id is the topic.
    /// </summary>
    public string? StripPrefix { get; set; }

    /// <summary>
    /// The MQTT client id, the key of the persistent session the broker keeps while SensorHub is away. It must be fixed
    /// (the same after a restart, or the broker keeps the old session's messages for nobody) and different on every
    /// node (two clients with one id take the session from each other, back and forth). Default
    /// <c>sensorhub-</c> followed by the machine's host name; set it per node where host names change on redeploy.
    /// At most 128 characters (MQTT 5 brokers take long ids; 3.1.1 only promised 23).
    /// </summary>
    [StringLength(128, MinimumLength = 1)]
    public string ClientId { get; set; } = DefaultClientId();

    /// <summary>The user name to connect with. Default none (anonymous).</summary>
    public string? Username { get; set; }

    /// <summary>The password to connect with, with <see cref="Username"/>. Default none. Keep it in a secret store or the environment.</summary>
    public string? Password { get; set; }

    /// <summary>Whether to connect over TLS (the broker's name is checked against <see cref="Host"/>). Default <see langword="false"/>.</summary>
    public bool UseTls { get; set; }

    /// <summary>
    /// With <see cref="UseTls"/>: a PEM or DER file with the certificate authority that signed the broker's certificate,
    /// trusted in place of the system's store (a broker with a private CA). Default none: the system's trusted roots.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>
    /// The MQTT 5 shared subscription group: each filter is subscribed to as <c>$share/&lt;group&gt;/&lt;filter&gt;</c>,
    /// so that the broker hands each message to one client of the group, and several SensorHub nodes take it in once.
    /// Default <c>sensorhub</c> (a group of one on a single node behaves as a plain subscription). Empty: plain
    /// subscriptions, for a broker without shared subscriptions; then every node takes in every message (with the
    /// Redis engine, each reading is published once per node).
    /// </summary>
    [RegularExpression(@"^[^/+#]*$", ErrorMessage = "The field SharedSubscriptionGroup must not contain '/', '+' or '#'.")]
    public string? SharedSubscriptionGroup { get; set; } = "sensorhub";

    /// <summary>
    /// How long the broker keeps the session (the subscriptions and the QoS 1 messages that arrive) after SensorHub
    /// disconnected: an outage longer than this loses what arrived during it. Default one day; from one second to
    /// 49,000 days. The broker may cap it, and caps the messages it queues per session (mosquitto's
    /// <c>max_queued_messages</c>, 1,000 by default).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "49000.00:00:00")]
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The JSON field that holds a reading's value in an object payload (<c>{"value": 21.5}</c>). Default <c>value</c>.
    /// </summary>
    [Required, MinLength(1)]
    public string ValueField { get; set; } = "value";

    /// <summary>
    /// The JSON field that holds a reading's time in an object payload: an ISO 8601 string (a time without a zone is
    /// UTC) or a number of seconds since the Unix epoch. Optional in a payload (absent: the time it arrived). Default
    /// <c>timestamp</c>.
    /// </summary>
    [Required, MinLength(1)]
    public string TimestampField { get; set; } = "timestamp";

    /// <summary>
    /// Whether a payload that is a JSON array is read as SenML (RFC 8428): each record one reading of sensor
    /// <c>&lt;topic's id&gt;/&lt;bn + n&gt;</c>. Default <see langword="true"/>; <see langword="false"/> counts such a
    /// payload as <c>bad_payload</c>.
    /// </summary>
    public bool SenML { get; set; } = true;

    /// <summary>The first wait before connecting again after the broker went away or refused. Default one second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest wait between attempts to connect: the wait doubles from <see cref="ReconnectMinDelay"/> up to this,
    /// each one drawn at random between half of it and all of it (jitter, so that nodes do not retry in step).
    /// Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Invalid messages are logged at most once per reason in this interval; the entry says how many were skipped
    /// since the last one. Every one is counted in <c>sensorhub.mqtt.messages</c>. Default one minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan InvalidMessageLogInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether the ingest runs: at least one topic filter is configured.</summary>
    public bool Enabled => Topics.Count > 0;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
            yield break;
        if (string.IsNullOrWhiteSpace(Host))
            yield return new ValidationResult("The field Host is required when Topics are set.", [nameof(Host)]);
        for (var i = 0; i < Topics.Count; i++)
        {
            if (TopicFilterProblem(Topics[i]) is { } problem)
                yield return new ValidationResult($"Topics[{i}] '{Topics[i]}' {problem}.", [nameof(Topics)]);
        }
        if (ReconnectMaxDelay < ReconnectMinDelay)
            yield return new ValidationResult("The field ReconnectMaxDelay must not be shorter than ReconnectMinDelay.", [nameof(ReconnectMaxDelay)]);
        if (Password is not null && Username is null)
            yield return new ValidationResult("The field Password needs a Username.", [nameof(Password)]);
        if (CaCertificatePath is not null && !UseTls)
            yield return new ValidationResult("The field CaCertificatePath needs UseTls.", [nameof(CaCertificatePath)]);
        if (CaCertificatePath is not null && !File.Exists(CaCertificatePath))
            yield return new ValidationResult($"The file CaCertificatePath '{CaCertificatePath}' does not exist.", [nameof(CaCertificatePath)]);
        if (string.Equals(ValueField, TimestampField, StringComparison.Ordinal))
            yield return new ValidationResult("The fields ValueField and TimestampField must differ.", [nameof(TimestampField)]);
    }

    /// <summary>What is wrong with an MQTT topic filter, as a phrase after it; <see langword="null"/> when it is valid.</summary>
    internal static string? TopicFilterProblem(string? filter)
    {
        if (string.IsNullOrEmpty(filter))
            return "is empty";
        if (filter.StartsWith('$'))
            return "starts with '$' (shared subscriptions come from SharedSubscriptionGroup; broker topics are not readings)";
        if (filter.Length > 1024)
            return "is longer than 1,024 characters";
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level == "#" && i != levels.Length - 1)
                return "has '#' before its last level";
            if (level.Length > 1 && (level.Contains('#') || level.Contains('+')))
                return $"has a wildcard inside the level '{level}'";
        }
        if (filter.Any(char.IsControl))
            return "contains a control character";
        return null;
    }

    private static string DefaultClientId()
    {
        var host = Environment.MachineName;
        return "sensorhub-" + (host.Length > 100 ? host[..100] : host);
    }
}

[OptionsValidator]
internal sealed partial class MqttIngestOptionsValidator : IValidateOptions<MqttIngestOptions>;
