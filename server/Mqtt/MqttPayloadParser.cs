using System.Buffers;
using System.Globalization;
using System.Text.Json;
using SensorHub.Contracts;

namespace SensorHub.Server.Mqtt;

/// <summary>
/// Turns an MQTT message (topic and payload) into readings: a bare number, a JSON object with a value field and an
/// optional timestamp field, or a SenML pack (RFC 8428). The sensor id is the topic without <c>StripPrefix</c>; a SenML
/// record's is that id, <c>/</c>, and the record's full name (<c>bn</c> + <c>n</c>), or the topic's id alone when the
/// record has no name. Values and times are checked later, by <see cref="Feeds.ReadingIngest"/>, as every reading is.
/// </summary>
internal sealed class MqttPayloadParser(MqttIngestOptions options)
{
    /// <summary>SenML: a time below 2^28 seconds is relative to now (RFC 8428, section 4.5.3).</summary>
    private const double SenMLRelativeTimeLimit = 268_435_456;

    /// <summary>The latest time a reading may carry, in seconds since the Unix epoch (the end of year 9999).</summary>
    private static readonly double s_maxUnixSeconds = (DateTime.MaxValue - DateTime.UnixEpoch).TotalSeconds;

    private readonly string _stripPrefix = options.StripPrefix ?? "";

    /// <summary>The readings in a message, or why it has none (an <see cref="MqttOutcome"/> and a phrase).</summary>
    public ParsedMessage Parse(string topic, ReadOnlySequence<byte> payload, DateTime nowUtc)
    {
        var sensorId = SensorIdOf(topic);
        var bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        var text = Trim(bytes);
        if (text.IsEmpty)
            return ParsedMessage.Invalid(MqttOutcome.BadPayload, "the payload is empty");
        if (text[0] == (byte)'[')
        {
            return options.SenML
                ? ParseSenML(sensorId, payload, nowUtc)
                : ParsedMessage.Invalid(MqttOutcome.BadPayload, "the payload is a JSON array, and SenML is switched off");
        }
        if (!SensorId.IsValid(sensorId, out var idProblem))
            return ParsedMessage.Invalid(MqttOutcome.InvalidSensorId, $"the sensor id '{Feeds.ReadingIngest.Echo(sensorId)}' made from the topic {idProblem}");
        if (text[0] == (byte)'{')
            return ParseObject(sensorId, payload);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            return ParsedMessage.Of(new ReadingInput { SensorId = sensorId, Value = value });
        return ParsedMessage.Invalid(MqttOutcome.BadPayload, "the payload is not a number, a JSON object or a JSON array");
    }

    /// <summary>The sensor id of a topic: the topic without <see cref="MqttIngestOptions.StripPrefix"/> where it starts with it.</summary>
    public string SensorIdOf(string topic) =>
        _stripPrefix.Length > 0 && topic.StartsWith(_stripPrefix, StringComparison.Ordinal) ? topic[_stripPrefix.Length..] : topic;

    private ParsedMessage ParseObject(string sensorId, ReadOnlySequence<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (!root.TryGetProperty(options.ValueField, out var valueElement))
                return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"the JSON object has no field '{options.ValueField}'");
            if (valueElement.ValueKind != JsonValueKind.Number || !valueElement.TryGetDouble(out var value))
                return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"the field '{options.ValueField}' is not a number");
            DateTime? timestamp = null;
            if (root.TryGetProperty(options.TimestampField, out var timeElement) && timeElement.ValueKind != JsonValueKind.Null)
            {
                if (TimestampOf(timeElement) is not { } time)
                    return ParsedMessage.Invalid(MqttOutcome.BadPayload,
                        $"the field '{options.TimestampField}' is not an ISO 8601 time or a number of seconds since 1970-01-01");
                timestamp = time;
            }
            return ParsedMessage.Of(new ReadingInput { SensorId = sensorId, Value = value, Timestamp = timestamp });
        }
        catch (JsonException e)
        {
            return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"the payload is not valid JSON ({e.Message})");
        }
    }

    /// <summary>
    /// A SenML pack: base fields (<c>bn</c>, <c>bt</c>, <c>bv</c>) apply to their record and every later one until
    /// replaced; a record with a numeric <c>v</c> is a reading; records with only a string, boolean or data value
    /// (<c>vs</c>, <c>vb</c>, <c>vd</c>), or with no value, are passed over (SensorHub holds numbers). A pack with no
    /// numeric record, or a record that is not as RFC 8428 describes it, is a bad payload.
    /// </summary>
    private static ParsedMessage ParseSenML(string topicId, ReadOnlySequence<byte> payload, DateTime nowUtc)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var readings = new List<ReadingInput>();
            string baseName = "";
            double baseTime = 0, baseValue = 0;
            var index = 0;
            foreach (var record in document.RootElement.EnumerateArray())
            {
                if (record.ValueKind != JsonValueKind.Object)
                    return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index} is not a JSON object");
                if (record.TryGetProperty("bn", out var bn))
                {
                    if (bn.ValueKind != JsonValueKind.String)
                        return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index}'s bn is not a string");
                    baseName = bn.GetString()!;
                }
                if (!NumberField(record, "bt", ref baseTime) || !NumberField(record, "bv", ref baseValue))
                    return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index}'s bt or bv is not a number");
                var name = "";
                if (record.TryGetProperty("n", out var n))
                {
                    if (n.ValueKind != JsonValueKind.String)
                        return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index}'s n is not a string");
                    name = n.GetString()!;
                }
                double time = 0;
                if (!NumberField(record, "t", ref time))
                    return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index}'s t is not a number");
                if (record.TryGetProperty("v", out var v))
                {
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var value))
                        return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index}'s v is not a number");
                    var fullName = baseName + name;
                    var sensorId = fullName.Length == 0 ? topicId : topicId + "/" + fullName;
                    if (!SensorId.IsValid(sensorId, out var idProblem))
                        return ParsedMessage.Invalid(MqttOutcome.InvalidSensorId,
                            $"the sensor id '{Feeds.ReadingIngest.Echo(sensorId)}' made from the topic and SenML record {index}'s name {idProblem}");
                    if (SenMLTime(baseTime + time, nowUtc) is not { } timestamp)
                        return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"SenML record {index}'s time is out of range");
                    readings.Add(new ReadingInput { SensorId = sensorId, Value = baseValue + value, Timestamp = timestamp });
                }
                index++;
            }
            return readings.Count == 0
                ? ParsedMessage.Invalid(MqttOutcome.BadPayload, "the SenML pack has no record with a numeric value (v)")
                : ParsedMessage.Of([.. readings]);
        }
        catch (JsonException e)
        {
            return ParsedMessage.Invalid(MqttOutcome.BadPayload, $"the payload is not valid JSON ({e.Message})");
        }
    }

    /// <summary>Reads an optional number field; <see langword="false"/> when it is there and not a number.</summary>
    private static bool NumberField(JsonElement record, string name, ref double value)
    {
        if (!record.TryGetProperty(name, out var element))
            return true;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out var read) || !double.IsFinite(read))
            return false;
        value = read;
        return true;
    }

    /// <summary>A SenML time: seconds since the Unix epoch, or relative to now below 2^28.</summary>
    private static DateTime? SenMLTime(double seconds, DateTime nowUtc)
    {
        if (seconds < SenMLRelativeTimeLimit)
            seconds += (nowUtc - DateTime.UnixEpoch).TotalSeconds;
        return FromUnixSeconds(seconds);
    }

    private static DateTime? TimestampOf(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Number)
            return element.TryGetDouble(out var seconds) ? FromUnixSeconds(seconds) : null;
        if (element.ValueKind == JsonValueKind.String &&
            DateTime.TryParse(element.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            return time;
        return null;
    }

    private static DateTime? FromUnixSeconds(double seconds) =>
        double.IsFinite(seconds) && seconds >= 0 && seconds < s_maxUnixSeconds
            ? DateTime.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond))
            : null;

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> bytes)
    {
        var start = 0;
        var end = bytes.Length;
        while (start < end && IsWhiteSpace(bytes[start]))
            start++;
        while (end > start && IsWhiteSpace(bytes[end - 1]))
            end--;
        return bytes[start..end];
    }

    private static bool IsWhiteSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}

/// <summary>The readings of one MQTT message, or the outcome and phrase that say why it has none.</summary>
internal readonly record struct ParsedMessage(ReadingInput[] Readings, string? Outcome, string? Problem)
{
    public bool IsValid => Outcome is null;

    public static ParsedMessage Of(params ReadingInput[] readings) => new(readings, null, null);

    public static ParsedMessage Invalid(string outcome, string problem) => new([], outcome, problem);
}
