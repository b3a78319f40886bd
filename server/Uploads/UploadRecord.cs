using System.Text.Json.Serialization;
using SensorHub.Contracts;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Server.Uploads;

/// <summary>What is kept on disk beside an upload's bytes, so that uploads outlive a restart.</summary>
internal sealed record UploadRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string ContentType { get; init; }

    /// <summary>
    /// The id (the token's subject) of the user who began it, which keys appending, <c>ListUploads</c>, visibility
    /// and quotas. <see langword="null"/> in a record written before uploads were owned by subject: such an upload
    /// is owned by nobody (only admins and readers without sensor prefixes see it, nobody appends to it, and it
    /// counts in no one's quota).
    /// </summary>
    public string? OwnerId { get; init; }

    /// <summary>
    /// The name of the user who began it, for showing only. Kept under the field name records had when it was the
    /// owner's only key, so that older records still read.
    /// </summary>
    [JsonPropertyName("owner")]
    public string? OwnerName { get; init; }

    public long? TotalBytes { get; init; }

    /// <summary>The hash the request declared, if any.</summary>
    public string? ExpectedSha256 { get; init; }

    public DateTime CreatedUtc { get; init; }

    public DateTime UpdatedUtc { get; init; }

    public bool Complete { get; init; }

    /// <summary>
    /// When it completed, from which its retention (<see cref="UploadOptions.RetainCompleteFor"/>) counts.
    /// <see langword="null"/> in a record written before it existed: then <see cref="UpdatedUtc"/>, which nothing
    /// moves after completion.
    /// </summary>
    public DateTime? CompletedUtc { get; init; }

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

    /// <summary>
    /// The request's <c>csv</c> options, checked at <c>BeginUpload</c>: kept so that every writer (after a restart, on
    /// another node) reads the file the same way. <see langword="null"/> for detection, and in records written before
    /// they existed.
    /// </summary>
    public CsvOptions? Csv { get; init; }

    /// <summary>Whether it failed: its bytes are gone, and it counts in no quota.</summary>
    [JsonIgnore]
    public bool Failed => Error is not null;

    /// <summary>
    /// What is wrong with a record read from disk whose JSON was well-formed, or <see langword="null"/> when it can
    /// be used: JSON binding checks neither nulls nor ranges, and a field missing here would fail much later.
    /// </summary>
    public string? ShapeError(string fileId)
    {
        if (!UploadIds.IsWellFormed(Id))
            return "its id is not an upload id";
        if (Id != fileId)
            return $"its id '{Id}' is not its file's name";
        if (Name is null || ContentType is null)
            return "it has no name or no content type";
        if (TotalBytes < 0)
            return "its totalBytes is negative";
        if (Processed is { } processed && (processed.Bytes < 0 || processed.Lines < 0))
            return "its processing checkpoint is negative";
        if (Csv is not null && CsvSettings.TryCreate(Csv, out var csvProblem) is null)
            return $"its csv options are not valid: {csvProblem}";
        return null;
    }
}
