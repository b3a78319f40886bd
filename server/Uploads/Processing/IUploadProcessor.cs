using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Looks at an upload's bytes as they arrive, chunk by chunk and in order, on the upload's worker (off the path that
/// receives the chunks). One instance per upload, kept across resumes in memory and made again from its
/// <see cref="Checkpoint"/> after a restart or a failure; one caller at a time.
/// </summary>
internal interface IUploadProcessor
{
    /// <summary>
    /// Where it stands: what it has handled so far, line by line. Also after <see cref="ProcessAsync"/> threw, when it
    /// covers exactly the lines handled before the failure.
    /// </summary>
    ProcessingCheckpoint Checkpoint { get; }

    /// <summary>Takes the next chunk.</summary>
    /// <param name="chunk">The bytes that follow those it has seen.</param>
    /// <param name="publisher">
    /// The writer as a publisher of rows: the sensors it may publish to, and its caps. <see langword="null"/> while an upload written before checkpoints
    /// existed is looked at again after a restart: rows are then counted but not published, as they were when they arrived.
    /// </param>
    /// <param name="cancellationToken">Ends the work early.</param>
    ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, Publisher? publisher, CancellationToken cancellationToken);

    /// <summary>The upload is complete: a last line without a newline is processed.</summary>
    ValueTask CompleteAsync(Publisher? publisher, CancellationToken cancellationToken);

    /// <summary>Writes what it found so far into the result.</summary>
    UploadResult Summarize(UploadResult result);
}
