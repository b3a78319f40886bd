using MessagePack;

namespace SensorHub.Contracts;

/// <summary>One value that a device or gateway publishes through <see cref="SensorHubMethods.Publish"/>.</summary>
[MessagePackObject]
public sealed record ReadingInput
{
    /// <summary>The sensor to publish to; it is registered the first time it is published to.</summary>
    [Key("sensorId")]
    public string? SensorId { get; init; }

    /// <summary>The measured value: a finite number.</summary>
    [Key("value")]
    public double Value { get; init; }

    /// <summary>When it was measured (UTC); <see langword="null"/> for the server's clock.</summary>
    [Key("timestamp")]
    public DateTime? Timestamp { get; init; }
}
