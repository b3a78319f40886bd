using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Client;

public sealed partial class SensorHubClient
{
    /// <summary>
    /// How long a resumed upload waits out refusals that mean "not yet" (<c>upload_has_writer</c>,
    /// <c>upload_offset_mismatch</c>, <c>server_busy</c>), counted from the first such refusal after each reconnection:
    /// a server notices a connection that vanished without a close within its client timeout (30 s by default), and
    /// only then releases the dropped connection's writer.
    /// </summary>
    internal static readonly TimeSpan UploadResumePatience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Uploads <paramref name="content"/> from its current position in chunks, reporting progress, and checks at the end
    /// that the server's SHA-256 equals the client's (computed while reading).
    /// </summary>
    /// <remarks>
    /// After a dropped connection the client waits for the reconnection, asks the server how many bytes it holds
    /// (<c>GetUploadStatus</c>), seeks <paramref name="content"/> back to there and goes on. Resuming needs a seekable
    /// stream: with one that cannot seek, a drop fails the upload with a <see cref="SensorHubTransferException"/> that
    /// names it (the server keeps what it received). The size sent to the server is <see cref="UploadOptions.TotalBytes"/>,
    /// or a seekable stream's remaining length. <paramref name="progress"/> is called on the sending path, in order,
    /// and last with 100%; an <see cref="IProgress{T}"/> such as <see cref="Progress{T}"/> may post its reports elsewhere.
    /// </remarks>
    /// <param name="content">The bytes to upload, read from its current position to its end (or to <see cref="UploadOptions.TotalBytes"/>).</param>
    /// <param name="options">The file's name and media type, the chunk size, and the size or hash where known.</param>
    /// <param name="progress">Told how far the upload has come after each chunk.</param>
    /// <param name="cancellationToken">Stops the upload; the server keeps what it received.</param>
    /// <returns>The server's result, with the processing summary of a log or CSV.</returns>
    /// <exception cref="UploadVerificationException">The server's hash differs from the client's.</exception>
    /// <exception cref="SensorHubTransferException">
    /// The upload could not complete: the content was shorter than its declared size, a drop with a stream that cannot
    /// seek, or the upload failed on the server (then <see cref="SensorHubTransferException.ErrorCode"/> is <c>upload_failed</c>).
    /// </exception>
    /// <exception cref="SensorHubServerException">
    /// The server refused (<c>invalid_argument</c>, <c>not_allowed</c>, <c>too_large</c>, <c>too_many_uploads</c>,
    /// <c>upload_failed</c>, ...; a first attempt's <c>server_busy</c> too) or failed unexpectedly. Refusals are not
    /// retried, except that a resume waits out <c>upload_has_writer</c>, <c>upload_offset_mismatch</c> and
    /// <c>server_busy</c> for 30 s after each reconnection.
    /// </exception>
    public async Task<UploadResult> UploadAsync(
        Stream content, UploadOptions options, IProgress<UploadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        if (!content.CanRead)
            throw new ArgumentException("The content stream cannot be read.", nameof(content));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ChunkSize);
        var total = options.TotalBytes ?? (content.CanSeek ? content.Length - content.Position : null);

        using var leave = Leave(cancellationToken);
        var begun = await InvokeAsync<UploadStatus>(
            SensorHubMethods.BeginUpload,
            [new UploadRequest { Name = options.Name, ContentType = options.ContentType, TotalBytes = total, Sha256 = options.Sha256, Csv = options.Csv }],
            idempotent: false,
            leave.Token).ConfigureAwait(false);
        var uploadId = begun.UploadId;
        using var source = new UploadSource(
            content, total, options.ChunkSize, sent => progress?.Report(new UploadProgress(uploadId, sent, total, Percent(sent, total), IsComplete: false)));

        var result = await SendUploadAsync(uploadId, source, content.CanSeek, leave.Token).ConfigureAwait(false);
        if (!result.Complete)
        {
            throw new SensorHubTransferException(
                uploadId,
                $"Upload '{uploadId}' ended incomplete: the server holds {result.Bytes} of the {total} bytes declared, but the content ended after {source.Hashed}.");
        }
        var sha256 = source.Sha256;
        if (!string.Equals(sha256, result.Sha256, StringComparison.Ordinal))
            throw new UploadVerificationException(uploadId, sha256, result.Sha256);
        progress?.Report(new UploadProgress(uploadId, result.Bytes, total ?? result.Bytes, 100, IsComplete: true));
        return result;
    }

    /// <summary>
    /// Writes a complete upload's bytes to <paramref name="destination"/>, from its first byte. After a dropped connection
    /// it goes on from the bytes written so far; it returns once all of them are written.
    /// </summary>
    /// <param name="uploadId">The upload.</param>
    /// <param name="destination">Where the bytes go, written in order from its current position.</param>
    /// <param name="cancellationToken">Stops the download.</param>
    /// <exception cref="SensorHubServerException">The upload is unknown to the caller (<c>unknown_upload</c>), or not complete (<c>upload_not_complete</c>).</exception>
    public async Task DownloadAsync(string uploadId, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadId);
        ArgumentNullException.ThrowIfNull(destination);
        using var leave = Leave(cancellationToken);
        // The size tells a finished download from one that a stopping server ended early.
        var status = await GetUploadStatusAsync(uploadId, leave.Token).ConfigureAwait(false);
        var written = 0L;
        var download = new ResumeSpec<byte[]>
        {
            Method = SensorHubMethods.Download,
            Target = uploadId,
            Open = token => _hub.StreamAsync<byte[]>(SensorHubMethods.Download, uploadId, written, token),
            EndIsFinal = () => written >= status.ReceivedBytes,
        };
        // A failure of the destination (a full disk) is thrown here, outside the attempt: the caller's to hear, not a
        // drop to resume from.
        await foreach (var chunk in _resumable.RunAsync(download, leave.Token).ConfigureAwait(false))
        {
            await destination.WriteAsync(chunk, leave.Token).ConfigureAwait(false);
            written += chunk.Length;
        }
    }

    /// <summary>Where an upload stands: <see cref="UploadStatus.ReceivedBytes"/> is the offset to resume at.</summary>
    /// <param name="uploadId">The upload.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<UploadStatus> GetUploadStatusAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadId);
        return InvokeAsync<UploadStatus>(SensorHubMethods.GetUploadStatus, [uploadId], idempotent: true, cancellationToken);
    }

    /// <summary>The caller's uploads (an admin's: all), oldest first.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<UploadStatus>> ListUploadsAsync(CancellationToken cancellationToken = default) =>
        await InvokeAsync<UploadStatus[]>(SensorHubMethods.ListUploads, [], idempotent: true, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Sends the content as a resumable operation whose one item is the server's result. Before each resume it asks
    /// the server where the upload stands and seeks back to there; a drop with a stream that cannot seek ends it.
    /// </summary>
    private async Task<UploadResult> SendUploadAsync(string uploadId, UploadSource source, bool canResume, CancellationToken cancellationToken)
    {
        var offset = 0L;
        UploadSource.Attempt? sending = null;
        UploadResult? completed = null;
        var upload = new ResumeSpec<UploadResult>
        {
            Method = SensorHubMethods.Upload,
            Target = uploadId,
            BeforeAttempt = async (reason, token) =>
            {
                if (reason is { } why)
                {
                    // backend_unavailable ends the stream mid-way as a drop does (and the client may move to another node).
                    if ((why.Cause == Interruption.ConnectionLost || why.Code == SensorHubErrors.BackendUnavailable) && !canResume)
                    {
                        throw new SensorHubTransferException(
                            uploadId, $"The connection dropped during upload '{uploadId}', and its stream cannot seek, so it cannot resume; the server keeps what it received.", why.Error);
                    }
                    // Also after a refusal: the server may have gone on writing chunks it had buffered after the last read.
                    var status = await GetUploadStatusAsync(uploadId, token).ConfigureAwait(false);
                    if (status.Error is { } error)
                        throw new SensorHubTransferException(uploadId, $"Upload '{uploadId}' failed on the server: {error}") { ErrorCode = SensorHubErrors.UploadFailed };
                    if (status.Complete)
                        completed = new UploadResult { UploadId = uploadId, Bytes = status.ReceivedBytes, Sha256 = status.Sha256, Complete = true };
                    offset = status.ReceivedBytes;
                }
                if (completed is null)
                    sending = source.StartAt(offset);
            },
            Open = token => completed is { } done ? Once(done) : UploadOnceAsync(uploadId, offset, sending!, token),
            IsLast = _ => true,
            // "Not yet" after a drop: the old writer still holds the upload, it wrote more after the status was read,
            // or every upload slot is taken while everyone resumes at once.
            PatienceFor = code => code is SensorHubErrors.UploadHasWriter or SensorHubErrors.UploadOffsetMismatch or SensorHubErrors.ServerBusy
                ? UploadResumePatience
                : null,
        };
        await foreach (var result in _resumable.RunAsync(upload, cancellationToken).ConfigureAwait(false))
            return result;
        throw new InvalidOperationException($"Upload '{uploadId}' ended without a result.");
    }

    private async IAsyncEnumerable<UploadResult> UploadOnceAsync(
        string uploadId, long offset, UploadSource.Attempt sending, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        UploadResult result;
        try
        {
            result = await _hub.InvokeCoreAsync<UploadResult>(
                SensorHubMethods.Upload, [uploadId, offset, sending.ChunksAsync(cancellationToken)], cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await sending.AbandonAsync().ConfigureAwait(false);
        }
        yield return result;
    }

#pragma warning disable CS1998 // An iterator of one item that is at hand.
    private static async IAsyncEnumerable<T> Once<T>(T item)
#pragma warning restore CS1998
    {
        yield return item;
    }

    private static double? Percent(long sent, long? total) =>
        total switch
        {
            null => null,
            0 => 100,
            { } t => Math.Min(100, 100.0 * sent / t),
        };
}
