using System.Security.Cryptography;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Server.Uploads;

internal sealed partial class UploadService
{
    private const int RebuildChunkBytes = 1024 * 1024;

    /// <summary>
    /// Appends a stream of chunks at <paramref name="offset"/>, which must be the bytes already received. Each chunk is
    /// on disk before the next is read; when the stream ends normally the upload completes if it has its
    /// <c>totalBytes</c> or declared none. A refused chunk, a broken stream or a cancel leaves everything before it in place.
    /// </summary>
    public async Task<UploadResult> AppendAsync(
        string? uploadId, long offset, IAsyncEnumerable<byte[]?> chunks, SensorHubUser user, CancellationToken cancellationToken)
    {
        var state = await FindAsync(uploadId, user, cancellationToken).ConfigureAwait(false);
        if (state.Record.Owner != user.Name && !user.IsAdmin)
            throw new UploadException(SensorHubErrors.NotAllowed, $"Not allowed: upload '{state.Id}' belongs to another user; only they or an admin may append to it.");
        if (offset < 0)
            throw new UploadException(SensorHubErrors.InvalidArgument, $"offset must be 0 or more; it was {offset}.");
        if (state.Record.Error is { } error)
            throw new UploadException(SensorHubErrors.UploadFailed, $"uploadId: upload '{state.Id}' failed ({error}); it cannot be resumed.");
        if (state.Record.Complete)
            throw new UploadException(SensorHubErrors.UploadComplete, $"uploadId: upload '{state.Id}' is already complete; it cannot be resumed.");
        if (!state.TryBeginWrite())
            throw new UploadException(SensorHubErrors.UploadHasWriter, $"uploadId: upload '{state.Id}' already has a writer; one Upload stream at a time may append to it.");
        try
        {
            if (Interlocked.Increment(ref _activeWriters) > _options.MaxConcurrentUploads)
                throw new UploadException(SensorHubErrors.ServerBusy, $"The server is running its most uploads at once ({_options.MaxConcurrentUploads}); try again later.");
            // Checked while holding the write slot, so that no other writer moves the end in between.
            if (offset != state.ReceivedBytes)
                throw new UploadException(SensorHubErrors.UploadOffsetMismatch, $"offset {offset} does not match the {state.ReceivedBytes} bytes already received; resume at {state.ReceivedBytes}.");

            await PrepareAsync(state, cancellationToken).ConfigureAwait(false);
            if (state.Processor is CsvProcessor csv)
                csv.MayPublish = user.MayPublish;
            await WriteAsync(state, chunks, cancellationToken).ConfigureAwait(false);
            if (state.Record.TotalBytes is not { } total || state.ReceivedBytes == total)
                await FinishAsync(state, cancellationToken).ConfigureAwait(false);
            var result = Summarize(state);
            // A complete upload takes no more bytes: its line buffers and id cache need not live as long as its record.
            if (state.Record.Complete)
                state.Processor = null;
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _activeWriters);
            state.EndWrite();
        }
    }

    /// <summary>
    /// Writes chunks until the stream ends normally. A chunk past <c>totalBytes</c> is refused even when the upload
    /// already has them all, so a client that sends too much hears of it; the upload then completes on a resume.
    /// </summary>
    private async Task WriteAsync(UploadState state, IAsyncEnumerable<byte[]?> chunks, CancellationToken cancellationToken)
    {
        var worker = new UploadWorker(state);
        try
        {
            await using var file = _store.OpenAppend(state.Id, state.ReceivedBytes);
            await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (chunk is null || chunk.Length == 0)
                    continue;
                CheckChunk(state, chunk.Length);
                // Neither the write nor the queueing is cancellable: a chunk is taken whole or not at all, and
                // what is on disk is always hashed.
                await file.WriteAsync(chunk, CancellationToken.None).ConfigureAwait(false);
                await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                state.Advance(chunk.Length, _time.GetUtcNow().UtcDateTime);
                await worker.EnqueueAsync(chunk).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not UploadException)
        {
            UploadsLog.Interrupted(_logger, state.Id, state.ReceivedBytes, ex);
            throw;
        }
        finally
        {
            await DrainAsync(state, worker).ConfigureAwait(false);
        }
    }

    private void CheckChunk(UploadState state, int length)
    {
        var received = state.ReceivedBytes;
        if (length > _options.MaxChunkBytes)
        {
            throw new UploadException(
                SensorHubErrors.TooLarge,
                $"A chunk of {length} bytes is over the {_options.MaxChunkBytes}-byte limit; it was refused and the upload keeps its {received} bytes.");
        }
        if (state.Record.TotalBytes is { } total && received + length > total)
        {
            throw new UploadException(
                SensorHubErrors.TooLarge,
                $"A chunk of {length} bytes would take the upload past its totalBytes ({total}); it was refused and the upload keeps its {received} bytes.");
        }
        if (received + length > _options.MaxUploadBytes)
        {
            throw new UploadException(
                SensorHubErrors.TooLarge,
                $"A chunk of {length} bytes would take the upload past the largest upload allowed ({_options.MaxUploadBytes} bytes); it was refused.");
        }
    }

    private async Task DrainAsync(UploadState state, UploadWorker worker)
    {
        try
        {
            await worker.DrainAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The hash and the summary no longer match the bytes on disk: the next writer rebuilds them from disk.
            UploadsLog.ProcessingFailed(_logger, state.Id, ex);
            state.Hasher?.Dispose();
            state.Hasher = null;
            state.Processor = null;
            throw;
        }
    }

    /// <summary>
    /// Gives the writer a hash and a processor that have seen every byte on disk: kept in memory across resumes, and
    /// rebuilt from disk after a restart (a CSV's rows are not published a second time).
    /// </summary>
    private async Task PrepareAsync(UploadState state, CancellationToken cancellationToken)
    {
        if (state.Hasher is not null)
            return;
        state.Hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        state.Processor = CreateProcessor(state.Record.ContentType);
        if (state.ReceivedBytes == 0)
            return;

        var csv = state.Processor as CsvProcessor;
        if (csv is not null)
            csv.Publishes = false;
        try
        {
            await RebuildFromDiskAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A half-fed hash would be taken for a whole one by the next writer: it starts the rebuild over instead.
            state.Hasher?.Dispose();
            state.Hasher = null;
            state.Processor = null;
            throw;
        }
        if (csv is not null)
            csv.Publishes = true;
    }

    private async Task RebuildFromDiskAsync(UploadState state, CancellationToken cancellationToken) =>
        await Task.Run(
            async () =>
            {
                await using var file = _store.OpenRead(state.Id, 0);
                var buffer = new byte[RebuildChunkBytes];
                var remaining = state.ReceivedBytes;
                while (remaining > 0)
                {
                    var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        throw new InvalidDataException($"Upload {state.Id} has fewer bytes on disk than recorded.");
                    state.Hasher!.AppendData(buffer, 0, read);
                    if (state.Processor is { } processor)
                        await processor.ProcessAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    remaining -= read;
                }
            },
            cancellationToken).ConfigureAwait(false);

    private async Task FinishAsync(UploadState state, CancellationToken cancellationToken)
    {
        if (state.Processor is { } processor)
            await processor.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
        var sha256 = Convert.ToHexStringLower(state.Hasher!.GetHashAndReset());
        state.Hasher.Dispose();
        state.Hasher = null;
        var now = _time.GetUtcNow().UtcDateTime;

        if (state.Record.ExpectedSha256 is { } expected && expected != sha256)
        {
            var error = $"sha256 mismatch: the complete file's SHA-256 is {sha256}, the request declared {expected}; its bytes were deleted.";
            _store.DeleteData(state.Id);
            await _store.SaveAsync(state.Fail(error, now), CancellationToken.None).ConfigureAwait(false);
            UploadsLog.Failed(_logger, state.Id, error);
            throw new UploadException(SensorHubErrors.UploadFailed, $"Upload '{state.Id}' failed: {error}");
        }

        // Not cancellable, as the failure's record above: the state in memory is complete now, and so must be the one on disk.
        await _store.SaveAsync(state.Complete(sha256, now), CancellationToken.None).ConfigureAwait(false);
        UploadsLog.Completed(_logger, state.Id, state.ReceivedBytes, sha256);
    }
}
