using MessagePack;

namespace SensorHub.Contracts;

/// <summary>A note someone made in a session, shown on everyone's charts.</summary>
[MessagePackObject]
public sealed record Annotation
{
    /// <summary>Its id, made by the server.</summary>
    [Key("id")]
    public string Id { get; init; } = "";

    /// <summary>The name of the user who made it, to show; two users may share a name.</summary>
    [Key("author")]
    public string Author { get; init; } = "";

    /// <summary>The id (the token's subject, <c>sub</c>) of the user who made it.</summary>
    [Key("authorId")]
    public string AuthorId { get; init; } = "";

    /// <summary>Its text, trimmed.</summary>
    [Key("text")]
    public string Text { get; init; } = "";

    /// <summary>The sensor it is about, one of the session's; <see langword="null"/> for the session as a whole.</summary>
    [Key("sensorId")]
    public string? SensorId { get; init; }

    /// <summary>The reading of <see cref="SensorId"/> it points at, if any.</summary>
    [Key("sequence")]
    public long? Sequence { get; init; }

    /// <summary>When the server received it (UTC).</summary>
    [Key("time")]
    public DateTime Time { get; init; }
}

/// <summary>What <see cref="SensorHubMethods.Annotate"/> adds to a session.</summary>
[MessagePackObject]
public sealed record AnnotationInput
{
    /// <summary>The text: 1 to 500 characters once trimmed (the server's <c>MaxAnnotationLength</c>).</summary>
    [Key("text")]
    public string Text { get; init; } = "";

    /// <summary>The sensor it is about: one of the session's, readable by the caller; <see langword="null"/> for none.</summary>
    [Key("sensorId")]
    public string? SensorId { get; init; }

    /// <summary>The reading of <see cref="SensorId"/> it points at (0 or more); needs <see cref="SensorId"/>.</summary>
    [Key("sequence")]
    public long? Sequence { get; init; }
}
