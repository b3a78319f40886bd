using MessagePack;

namespace SensorHub.Contracts;

/// <summary>What <see cref="SensorHubMethods.BeginUpload"/> creates an upload from.</summary>
[MessagePackObject]
public sealed record UploadRequest
{
    /// <summary>The file's name: no path separators, no <c>..</c>, not empty.</summary>
    [Key("name")]
    public string Name { get; init; } = "";

    /// <summary>Its media type; <c>text/plain</c> is processed as a log, <c>text/csv</c> as readings. Default <c>application/octet-stream</c>.</summary>
    [Key("contentType")]
    public string ContentType { get; init; } = "";

    /// <summary>Its size in bytes, if known: the upload completes when it is reached, and no byte past it is taken.</summary>
    [Key("totalBytes")]
    public long? TotalBytes { get; init; }

    /// <summary>The expected SHA-256 of the whole file in lowercase hex, if known: a complete file that differs fails.</summary>
    [Key("sha256")]
    public string? Sha256 { get; init; }

    /// <summary>
    /// For a <c>text/csv</c> upload: how to read it where detection would guess wrong. <see langword="null"/>: every
    /// choice detected from the file (see <see cref="CsvOptions"/>).
    /// </summary>
    [Key("csv")]
    public CsvOptions? Csv { get; init; }
}
