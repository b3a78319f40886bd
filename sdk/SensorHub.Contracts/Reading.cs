using MessagePack;

namespace SensorHub.Contracts;

/// <summary>One measured value of one sensor, as the hub delivers it.</summary>
/// <remarks>
/// Keys are camelCase under both hub protocols. <see cref="Timestamp"/> is a UTC <see cref="DateTime"/>
/// so that MessagePack writes its timestamp type (a JavaScript <c>Date</c>) and JSON an ISO 8601 string.
/// </remarks>
[MessagePackObject]
public sealed record Reading
{
    /// <summary>The sensor this reading belongs to.</summary>
    [Key("sensorId")]
    public string SensorId { get; init; } = "";

    /// <summary>Per sensor, the previous reading's sequence plus one; never reused, always below 2^53.</summary>
    [Key("sequence")]
    public long Sequence { get; init; }

    /// <summary>When the value was measured (UTC): the device's time, or the server's when the device gave none.</summary>
    [Key("timestamp")]
    public DateTime Timestamp { get; init; }

    /// <summary>The measured value.</summary>
    [Key("value")]
    public double Value { get; init; }
}
