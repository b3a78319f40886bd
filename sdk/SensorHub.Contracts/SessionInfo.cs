using MessagePack;

namespace SensorHub.Contracts;

/// <summary>A live session: several people watching the same sensors together.</summary>
[MessagePackObject]
public sealed record SessionInfo
{
    /// <summary>The session's id, made by the server: 32 lowercase hexadecimal digits.</summary>
    [Key("id")]
    public string Id { get; init; } = "";

    /// <summary>What the session is about: 1 to 200 characters, trimmed.</summary>
    [Key("title")]
    public string Title { get; init; } = "";

    /// <summary>The name of the user who created it, to show; two users may share a name.</summary>
    [Key("owner")]
    public string Owner { get; init; } = "";

    /// <summary>
    /// The id (the token's subject, <c>sub</c>) of the user who created it: what ownership is decided by. A client
    /// compares it with its own token's subject to know whether it owns the session.
    /// </summary>
    [Key("ownerId")]
    public string OwnerId { get; init; } = "";

    /// <summary>The sensors the session watches, in the order they were given, without duplicates.</summary>
    [Key("sensorIds")]
    public string[] SensorIds { get; init; } = [];

    /// <summary>Whether only its owner, the users it invited and admins may see and join it.</summary>
    [Key("private")]
    public bool Private { get; init; }
}

/// <summary>What <see cref="SensorHubMethods.CreateSession"/> creates a session from.</summary>
[MessagePackObject]
public sealed record CreateSessionRequest
{
    /// <summary>What the session is about: 1 to 200 characters once trimmed.</summary>
    [Key("title")]
    public string Title { get; init; } = "";

    /// <summary>The sensors it watches; the caller must be allowed to read each. At most 50.</summary>
    [Key("sensorIds")]
    public string[] SensorIds { get; init; } = [];

    /// <summary>Whether only its owner, the <see cref="Invited"/> users and admins may see and join it.</summary>
    [Key("private")]
    public bool Private { get; init; }

    /// <summary>
    /// The ids (token subjects, <c>sub</c>) of the users a private session admits besides its owner and admins;
    /// <see langword="null"/> for none. Not names: two users may share a name. A dev token's subject is its name.
    /// </summary>
    [Key("invited")]
    public string[]? Invited { get; init; }
}
