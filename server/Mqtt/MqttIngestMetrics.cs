using System.Diagnostics.Metrics;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Mqtt;

/// <summary>
/// The MQTT ingest's instruments on the <see cref="SensorHubTelemetry.MeterName"/> meter: messages taken from the
/// broker by outcome, and whether the ingest is connected. The readings themselves are counted where every reading is
/// (<c>sensorhub.readings.published</c>, <c>sensorhub.readings.rejected</c>), as for <c>Publish</c>.
/// </summary>
public sealed class MqttIngestMetrics
{
    /// <summary>Messages taken from the broker, by <see cref="SensorHubTelemetry.MqttOutcome"/> (and <c>error.type</c> when a reading was rejected).</summary>
    public const string MessagesInstrument = "sensorhub.mqtt.messages";

    /// <summary>1 while the ingest is connected to its broker and subscribed, else 0 (also 0 when the ingest is off).</summary>
    public const string ConnectedInstrument = "sensorhub.mqtt.connected";

    private readonly Counter<long> _messages;
    private volatile bool _connected;

    public MqttIngestMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _messages = meter.CreateCounter<long>(MessagesInstrument, "{message}",
            "MQTT messages taken from the broker, by outcome: published, bad_payload, invalid_sensor_id, rejected, failed.");
        meter.CreateObservableGauge(ConnectedInstrument, () => _connected ? 1 : 0, "{connection}",
            "1 while the MQTT ingest is connected to its broker and subscribed, else 0.");
    }

    /// <summary>Whether the ingest is connected to its broker and subscribed now.</summary>
    public bool Connected
    {
        get => _connected;
        internal set => _connected = value;
    }

    /// <summary>Counts one message with <paramref name="outcome"/>; <paramref name="errorType"/> is the rejection's code for <see cref="MqttOutcome.Rejected"/>.</summary>
    internal void Count(string outcome, string? errorType = null)
    {
        if (errorType is null)
            _messages.Add(1, new KeyValuePair<string, object?>(SensorHubTelemetry.MqttOutcome, outcome));
        else
            _messages.Add(1, new KeyValuePair<string, object?>(SensorHubTelemetry.MqttOutcome, outcome),
                new KeyValuePair<string, object?>(SensorHubTelemetry.ErrorType, errorType));
    }

    /// <summary>Records 0 for each outcome without an error type, so that an exporter shows the series from the start.</summary>
    internal void RecordZeros()
    {
        foreach (var outcome in MqttOutcome.All)
        {
            if (outcome != MqttOutcome.Rejected)
                _messages.Add(0, new KeyValuePair<string, object?>(SensorHubTelemetry.MqttOutcome, outcome));
        }
    }
}

/// <summary>What became of an MQTT message: the values of <see cref="SensorHubTelemetry.MqttOutcome"/>.</summary>
public static class MqttOutcome
{
    /// <summary>Every reading in it was published.</summary>
    public const string Published = "published";

    /// <summary>The payload is not a number, a JSON object with a numeric value field, or SenML with numeric records.</summary>
    public const string BadPayload = "bad_payload";

    /// <summary>The topic (after <c>StripPrefix</c>), or a SenML record's name with it, is not a valid sensor id.</summary>
    public const string InvalidSensorId = "invalid_sensor_id";

    /// <summary>At least one reading was rejected by the checks and limits every published reading passes (tagged <c>error.type</c> with the first one's code).</summary>
    public const string Rejected = "rejected";

    /// <summary>Taking it in failed unexpectedly (a bug, logged at Error): skipped, so that it cannot stall the flow.</summary>
    public const string Failed = "failed";

    /// <summary>All outcomes.</summary>
    public static readonly IReadOnlyList<string> All = [Published, BadPayload, InvalidSensorId, Rejected, Failed];
}
