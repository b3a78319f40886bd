using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Server.Uploads;

/// <summary>What is kept on disk beside an upload's bytes, so that uploads outlive a restart.</summary>
internal sealed record UploadRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string ContentType { get; init; }

    /// <summary>The name of the user who began it.</summary>
    public string? Owner { get; init; }

    public long? TotalBytes { get; init; }

    /// <summary>The hash the request declared, if any.</summary>
    public string? ExpectedSha256 { get; init; }

    public DateTime CreatedUtc { get; init; }

    public DateTime UpdatedUtc { get; init; }

    public bool Complete { get; init; }

    /// <summary>The whole file's hash, once complete.</summary>
    public string? Sha256 { get; init; }

    public string? Error { get; init; }

    /// <summary>
    /// How far its processor got (text and CSV uploads), saved as the worker finishes each chunk: a resume makes the
    /// processor again from it and processes the bytes past it, so rows on disk but never processed are published
    /// after a crash, and those before it are not published twice. <see langword="null"/> in a record written before
    /// checkpoints existed, or for an upload nobody processes.
    /// </summary>
    public ProcessingCheckpoint? Processed { get; init; }
}
