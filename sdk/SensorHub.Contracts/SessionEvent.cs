using MessagePack;

namespace SensorHub.Contracts;

/// <summary>
/// One item of a <see cref="SensorHubMethods.JoinSession"/> stream. The first is always a
/// <see cref="SessionEventKinds.Snapshot"/>; after it come the session's events as they happen, with no gap and no
/// duplicate between the two. Only the fields that the <see cref="Kind"/> names are set; the others are <see langword="null"/>.
/// </summary>
[MessagePackObject]
public sealed record SessionEvent
{
    /// <summary>One of <see cref="SessionEventKinds"/>.</summary>
    [Key("kind")]
    public string Kind { get; init; } = "";

    /// <summary>The session as it is now; in a <see cref="SessionEventKinds.Snapshot"/>.</summary>
    [Key("session")]
    public SessionInfo? Session { get; init; }

    /// <summary>Everyone present, the joiner included, ordered by name and then id; in a <see cref="SessionEventKinds.Snapshot"/>.</summary>
    [Key("participants")]
    public Participant[]? Participants { get; init; }

    /// <summary>Who came or went; in <see cref="SessionEventKinds.Joined"/> and <see cref="SessionEventKinds.Left"/>.</summary>
    [Key("participant")]
    public Participant? Participant { get; init; }

    /// <summary>
    /// The most recent annotations, oldest first, without those about a sensor outside the joiner's sensor prefixes;
    /// in a <see cref="SessionEventKinds.Snapshot"/>.
    /// </summary>
    [Key("annotations")]
    public Annotation[]? Annotations { get; init; }

    /// <summary>The new annotation; in <see cref="SessionEventKinds.Annotated"/>.</summary>
    [Key("annotation")]
    public Annotation? Annotation { get; init; }

    /// <summary>The session's sensors from now on; in <see cref="SessionEventKinds.SensorsChanged"/>.</summary>
    [Key("sensorIds")]
    public string[]? SensorIds { get; init; }
}

/// <summary>The values of <see cref="SessionEvent.Kind"/>.</summary>
public static class SessionEventKinds
{
    /// <summary>The first item of every join: the session, everyone present (the joiner too) and the recent annotations.</summary>
    public const string Snapshot = "snapshot";

    /// <summary>A user's first stream on the session joined; carries the participant.</summary>
    public const string Joined = "joined";

    /// <summary>A user's last stream on the session ended; carries the participant, with 0 connections.</summary>
    public const string Left = "left";

    /// <summary>Someone annotated; carries the annotation.</summary>
    public const string Annotated = "annotated";

    /// <summary>The session's sensors were replaced; carries the new sensor ids.</summary>
    public const string SensorsChanged = "sensorsChanged";

    /// <summary>The session was ended; the stream completes after this.</summary>
    public const string Ended = "ended";
}

/// <summary>A user present in a session.</summary>
[MessagePackObject]
public sealed record Participant
{
    /// <summary>
    /// Who it is: presence is keyed by it. The user's id (the token's subject, <c>sub</c>): a user with two tabs is one
    /// participant, and two users who share a name are two. A token without a subject is a participant per joined
    /// stream, with an id the server made for that stream (<c>stream:</c> and 32 lowercase hexadecimal digits).
    /// </summary>
    [Key("id")]
    public string Id { get; init; } = "";

    /// <summary>The user's name, to show; two participants may share one.</summary>
    [Key("name")]
    public string Name { get; init; } = "";

    /// <summary>The user's session streams open on the session at that moment (0 in a <c>left</c> event).</summary>
    [Key("connections")]
    public int Connections { get; init; }
}
