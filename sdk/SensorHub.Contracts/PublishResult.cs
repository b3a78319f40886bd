using MessagePack;

namespace SensorHub.Contracts;

/// <summary>What became of a <see cref="SensorHubMethods.Publish"/> stream once it ended.</summary>
[MessagePackObject]
public sealed record PublishResult
{
    /// <summary>Items published.</summary>
    [Key("accepted")]
    public long Accepted { get; init; }

    /// <summary>Items rejected, each alone; the items around them were kept.</summary>
    [Key("rejected")]
    public long Rejected { get; init; }

    /// <summary>The first few rejections, in stream order.</summary>
    [Key("rejections")]
    public PublishRejection[] Rejections { get; init; } = [];
}

/// <summary>Why one published item was rejected.</summary>
[MessagePackObject]
public sealed record PublishRejection
{
    /// <summary>The item's position in the stream, counting from 0.</summary>
    [Key("index")]
    public long Index { get; init; }

    /// <summary>The item's sensor id as sent, if it had one.</summary>
    [Key("sensorId")]
    public string? SensorId { get; init; }

    /// <summary>What was wrong with it.</summary>
    [Key("reason")]
    public string Reason { get; init; } = "";
}
