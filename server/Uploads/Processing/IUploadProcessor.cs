using SensorHub.Contracts;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Looks at an upload's bytes as they arrive, chunk by chunk and in order, on the upload's worker (off the path that
/// receives the chunks). One instance per upload, kept across resumes; one caller at a time.
/// </summary>
internal interface IUploadProcessor
{
    /// <summary>Takes the next chunk.</summary>
    ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken);

    /// <summary>The upload is complete: a last line without a newline is processed.</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);

    /// <summary>Writes what it found so far into the result.</summary>
    UploadResult Summarize(UploadResult result);
}
