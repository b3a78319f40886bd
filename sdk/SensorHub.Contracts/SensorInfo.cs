using MessagePack;

namespace SensorHub.Contracts;

/// <summary>A sensor the hub knows, with its newest reading.</summary>
[MessagePackObject]
public sealed record SensorInfo
{
    /// <summary>The sensor id, such as <c>plant-1/line-2/vibration</c>.</summary>
    [Key("id")]
    public string Id { get; init; } = "";

    /// <summary>A human-readable name; the id for sensors that devices registered by publishing.</summary>
    [Key("name")]
    public string Name { get; init; } = "";

    /// <summary>The unit of the values, such as <c>°C</c>, where known.</summary>
    [Key("unit")]
    public string? Unit { get; init; }

    /// <summary>What it measures (<c>temperature</c>, <c>vibration</c>, ...), or <c>device</c> for one registered by publishing.</summary>
    [Key("kind")]
    public string Kind { get; init; } = "";

    /// <summary>
    /// The first sequence of this sensor's numbering on the server now answering: every sequence it issued is at or
    /// above it. A sequence below it came from an earlier numbering (before a restart of a server that keeps no
    /// history across restarts), so a client that resumes from below it knows the span is a jump between numberings,
    /// not readings that history lost.
    /// </summary>
    [Key("firstSequence")]
    public long FirstSequence { get; init; }

    /// <summary>The newest reading's sequence, 0 before the first reading.</summary>
    [Key("lastSequence")]
    public long LastSequence { get; init; }

    /// <summary>The newest reading's value, <see langword="null"/> before the first reading.</summary>
    [Key("lastValue")]
    public double? LastValue { get; init; }

    /// <summary>The newest reading's timestamp (UTC), <see langword="null"/> before the first reading.</summary>
    [Key("lastTimestamp")]
    public DateTime? LastTimestamp { get; init; }
}
