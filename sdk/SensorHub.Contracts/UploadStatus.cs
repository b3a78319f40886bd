using MessagePack;

namespace SensorHub.Contracts;

/// <summary>Where an upload stands: what the server has durably written.</summary>
[MessagePackObject]
public sealed record UploadStatus
{
    /// <summary>The upload's id, known before a byte travels.</summary>
    [Key("uploadId")]
    public string UploadId { get; init; } = "";

    /// <summary>The file's name.</summary>
    [Key("name")]
    public string Name { get; init; } = "";

    /// <summary>Its media type.</summary>
    [Key("contentType")]
    public string ContentType { get; init; } = "";

    /// <summary>Bytes written to disk so far: the offset to resume at.</summary>
    [Key("receivedBytes")]
    public long ReceivedBytes { get; init; }

    /// <summary>The size the request declared, if any.</summary>
    [Key("totalBytes")]
    public long? TotalBytes { get; init; }

    /// <summary>Whether every byte has arrived (and, where one was declared, the hash matched).</summary>
    [Key("complete")]
    public bool Complete { get; init; }

    /// <summary>The whole file's SHA-256 in lowercase hex, once complete.</summary>
    [Key("sha256")]
    public string? Sha256 { get; init; }

    /// <summary>Why the upload failed, once it has; a failed upload keeps no bytes and cannot be resumed.</summary>
    [Key("error")]
    public string? Error { get; init; }
}
