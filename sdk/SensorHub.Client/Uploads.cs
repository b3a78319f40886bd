namespace SensorHub.Client;

/// <summary>What <see cref="SensorHubClient.UploadAsync"/> uploads, and how.</summary>
public sealed class UploadOptions
{
    /// <summary>The default <see cref="ChunkSize"/>: 64 KiB.</summary>
    public const int DefaultChunkSize = 64 * 1024;

    /// <summary>The file's name: no path separators, no <c>..</c>, not empty. Required.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// Its media type: <c>text/plain</c> is processed as a log, <c>text/csv</c> as readings. Default
    /// <c>application/octet-stream</c> (stored and hashed only).
    /// </summary>
    public string ContentType { get; set; } = "application/octet-stream";

    /// <summary>
    /// Bytes per chunk. Default 64 KiB; at most the server's <c>MaxChunkBytes</c> (1 MiB by default).
    /// </summary>
    public int ChunkSize { get; set; } = DefaultChunkSize;

    /// <summary>
    /// The size in bytes, if known. Default <see langword="null"/>: for a seekable stream, its length from its current
    /// position; otherwise unknown, and the upload completes when the stream ends.
    /// </summary>
    public long? TotalBytes { get; set; }

    /// <summary>
    /// The file's SHA-256 in lowercase hex, if known beforehand. Default <see langword="null"/>. When given the server
    /// also checks it; either way the client compares its own hash with the server's at the end.
    /// </summary>
    public string? Sha256 { get; set; }

    /// <summary>
    /// How a <c>text/csv</c> upload is read where detection would guess wrong (delimiter, sensor prefix, time zone,
    /// timestamp format; see <see cref="SensorHub.Contracts.CsvOptions"/>). Default <see langword="null"/>: detected
    /// from the file. Refused by the server with <c>invalid_argument</c> when a field is not valid, or on another type.
    /// </summary>
    public SensorHub.Contracts.CsvOptions? Csv { get; set; }
}

/// <summary>How far an upload has come.</summary>
/// <param name="UploadId">The upload's id.</param>
/// <param name="BytesSent">
/// Bytes sent so far. After a dropped connection it steps back to what the server had written, from where the upload resumes.
/// </param>
/// <param name="TotalBytes">The size, where known.</param>
/// <param name="Percent">0 to 100 where the size is known; <see langword="null"/> otherwise, until the upload completes (then 100).</param>
/// <param name="IsComplete">Whether the server has the whole file and its hash matched.</param>
public sealed record UploadProgress(string UploadId, long BytesSent, long? TotalBytes, double? Percent, bool IsComplete);

/// <summary>An upload or download that could not be completed, with the upload's id so that it can be looked at or resumed.</summary>
public class SensorHubTransferException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SensorHubTransferException()
    {
        UploadId = "";
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public SensorHubTransferException(string message)
        : base(message)
    {
        UploadId = "";
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public SensorHubTransferException(string message, Exception? innerException)
        : base(message, innerException)
    {
        UploadId = "";
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="uploadId">The upload's id.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause, if any.</param>
    public SensorHubTransferException(string uploadId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        UploadId = uploadId;
    }

    /// <summary>The upload's id.</summary>
    public string UploadId { get; }

    /// <summary>
    /// The server's code where the server made the transfer fail, one of <see cref="SensorHub.Contracts.SensorHubErrors"/>
    /// (<c>upload_failed</c>: its status says it failed); <see langword="null"/> where the client found the problem (a
    /// content shorter than declared, a drop with a stream that cannot seek, a hash that differs).
    /// </summary>
    public string? ErrorCode { get; init; }
}

/// <summary>The server's SHA-256 of a completed upload differs from the client's.</summary>
public sealed class UploadVerificationException : SensorHubTransferException
{
    /// <summary>Creates the exception.</summary>
    public UploadVerificationException()
    {
        ExpectedSha256 = "";
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public UploadVerificationException(string message)
        : base(message)
    {
        ExpectedSha256 = "";
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public UploadVerificationException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ExpectedSha256 = "";
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="uploadId">The upload's id.</param>
    /// <param name="expectedSha256">The client's hash of what it sent.</param>
    /// <param name="actualSha256">The server's hash.</param>
    public UploadVerificationException(string uploadId, string expectedSha256, string? actualSha256)
        : base(uploadId, $"Upload '{uploadId}' completed, but the server's SHA-256 {actualSha256 ?? "(none)"} differs from the client's {expectedSha256}.")
    {
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    /// <summary>The client's SHA-256 of the bytes it read.</summary>
    public string ExpectedSha256 { get; }

    /// <summary>The server's SHA-256.</summary>
    public string? ActualSha256 { get; }
}
