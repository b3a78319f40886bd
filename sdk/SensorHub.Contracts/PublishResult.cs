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

    /// <summary>
    /// The item's sensor id as sent, if it had one; one longer than <see cref="Contracts.SensorId.MaxLength"/> (so
    /// invalid anyway) is cut to that length and ends with <c>…</c>, whatever the client sent.
    /// </summary>
    [Key("sensorId")]
    public string? SensorId { get; init; }

    /// <summary>
    /// Why, for machines: one of <see cref="SensorHubErrors"/>' codes: <c>invalid_argument</c> (a malformed item),
    /// <c>not_allowed</c> (a sensor outside the token's prefixes, or a new sensor from a token without a subject),
    /// <c>too_many_sensors</c> (a new sensor over a cap), <c>rate_limited</c> (over the connection's rate; the reason
    /// ends with <see cref="SensorHubErrors.RetryAfterText"/>'s words).
    /// </summary>
    [Key("code")]
    public string Code { get; init; } = "";

    /// <summary>What was wrong with it, for people.</summary>
    [Key("reason")]
    public string Reason { get; init; } = "";
}
