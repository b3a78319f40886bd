using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using SensorHub.Server.Feeds;
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
        using var activity = UploadActivity.Start(uploadId, offset);
        var written = new StrongBox<long>();
        string? errorType = null;
        try
        {
            return await AppendCoreAsync(uploadId, offset, chunks, user, written, cancellationToken).ConfigureAwait(false);
        }
        catch (SensorHubException e)
        {
            errorType = e.Code;
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller ended the stream (or its connection went): what was written stays, and the upload resumes
            // there. Not a failure of the server's.
            throw;
        }
        catch (Exception e)
        {
            // OpenTelemetry's rule for error.type without a code of one's own: the exception's type.
            errorType = e.GetType().FullName ?? e.GetType().Name;
            throw;
        }
        finally
        {
            if (errorType is not null)
                _metrics.Failed(errorType);
            UploadActivity.Stop(activity, written.Value, errorType);
        }
    }

    private async Task<UploadResult> AppendCoreAsync(
        string? uploadId, long offset, IAsyncEnumerable<byte[]?> chunks, SensorHubUser user, StrongBox<long> written, CancellationToken cancellationToken)
    {
        var state = await FindAsync(uploadId, user, cancellationToken).ConfigureAwait(false);
        CheckMayAppend(state, user);
        if (offset < 0)
            throw new UploadException(SensorHubErrors.InvalidArgument, $"offset must be 0 or more; it was {offset}.");
        _coordinator.ThrowIfUnavailable();
        await _hooks.BeforeWriteSlotAsync(state.Id, offset, cancellationToken).ConfigureAwait(false);
        var slot = await _coordinator.TryTakeWriteSlotAsync(state, cancellationToken).ConfigureAwait(false)
                   ?? throw new UploadException(SensorHubErrors.UploadHasWriter, $"uploadId: upload '{state.Id}' already has a writer; one Upload stream at a time may append to it.");
        try
        {
            if (Interlocked.Increment(ref _activeWriters) > _options.MaxConcurrentUploads)
                throw new UploadException(SensorHubErrors.ServerBusy, $"The server is running its most uploads at once ({_options.MaxConcurrentUploads}); try again later.");
            // Another node may have written it since this one last looked: the folder, read under the slot, says
            // where it stands.
            if (_coordinator.IsShared && !await ReloadUnderSlotAsync(state, cancellationToken).ConfigureAwait(false))
                throw new UploadException(SensorHubErrors.UnknownUpload, $"uploadId: no upload '{state.Id}' is known.");
            // Decided while holding the write slot: only its holder completes or fails an upload, the janitor deletes
            // one only while holding it, and no other writer moves the end. Decided before taking it, a writer could
            // append to an upload that completed in between.
            if (state.Record.Error is { } error)
                throw new UploadException(SensorHubErrors.UploadFailed, $"uploadId: upload '{state.Id}' failed ({error}); it cannot be resumed.");
            if (state.Record.Complete)
                throw new UploadException(SensorHubErrors.UploadComplete, $"uploadId: upload '{state.Id}' is already complete; it cannot be resumed.");
            if (offset != state.ReceivedBytes)
                throw new UploadException(SensorHubErrors.UploadOffsetMismatch, $"offset {offset} does not match the {state.ReceivedBytes} bytes already received; resume at {state.ReceivedBytes}.");

            // A slot that is lost (its lease could not be renewed) stops the writer as a cancel would, with its own error.
            using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, slot.LostToken);
            try
            {
                var unprocessed = await PrepareAsync(state, writing.Token).ConfigureAwait(false);
                var publisher = new Publisher(user.Id, user.MayPublish);
                await WriteAsync(state, slot, unprocessed, chunks, publisher, written, writing.Token).ConfigureAwait(false);
                if (state.Record.TotalBytes is not { } total || state.ReceivedBytes == total)
                    await FinishAsync(state, slot, publisher, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (slot.LostToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw slot.Lost();
            }
            var result = Summarize(state);
            // A complete upload takes no more bytes: its line buffers and id cache need not live as long as its record.
            if (state.Record.Complete)
                state.Processor = null;
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _activeWriters);
            await slot.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Queues the bytes on disk from <paramref name="unprocessed"/> on (never processed: a crash or a failure came
    /// between their write and their processing), then writes chunks until the stream ends normally. A chunk past
    /// <c>totalBytes</c> is refused even when the upload already has them all, so a client that sends too much hears
    /// of it; the upload then completes on a resume.
    /// </summary>
    private async Task WriteAsync(
        UploadState state, IUploadWriteSlot slot, long unprocessed, IAsyncEnumerable<byte[]?> chunks, Publisher publisher, StrongBox<long> written,
        CancellationToken cancellationToken)
    {
        var worker = new UploadWorker(
            state,
            unprocessed,
            publisher,
            checkpoint =>
            {
                slot.EnsureHeld();
                return _store.SaveAsync(state.SetProcessed(checkpoint), CancellationToken.None);
            },
            slot.EnsureHeld,
            _hooks,
            _logger);
        try
        {
            await QueueFromDiskAsync(state, unprocessed, worker, cancellationToken).ConfigureAwait(false);
            await using var file = _store.OpenAppend(state.Id, state.ReceivedBytes);
            await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (chunk is null || chunk.Length == 0)
                    continue;
                CheckChunk(state, chunk.Length);
                await WriteChunkAsync(state, slot, file, chunk, cancellationToken).ConfigureAwait(false);
                state.Advance(chunk.Length, _time.GetUtcNow().UtcDateTime);
                written.Value += chunk.Length;
                _metrics.ChunkWritten(chunk.Length);
                _coordinator.Changed(state.Id);
                // Not cancellable, as the write: what is on disk is always hashed.
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

    private async Task QueueFromDiskAsync(UploadState state, long from, UploadWorker worker, CancellationToken cancellationToken)
    {
        var remaining = state.ReceivedBytes - from;
        if (remaining <= 0)
            return;
        await using var file = _store.OpenRead(state.Id, from);
        while (remaining > 0)
        {
            // A buffer per chunk: the worker's queue holds on to it.
            var chunk = new byte[(int)Math.Min(RebuildChunkBytes, remaining)];
            await file.ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
            await worker.EnqueueAsync(chunk).ConfigureAwait(false);
            remaining -= chunk.Length;
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
            UploadsLog.ProcessingFailed(_logger, state.Id, ex);
            Forget(state);
            throw;
        }
        // Bytes on disk that never reached the worker (reading them back was cancelled): the hash in memory misses
        // them, so the next writer makes it again, and processes them from the checkpoint.
        if (worker.Digested != state.ReceivedBytes)
            Forget(state);
    }

    /// <summary>
    /// Drops the hash and the processor in memory when they no longer match the bytes on disk: the next writer makes
    /// them again from disk and from the processor's last checkpoint.
    /// </summary>
    private static void Forget(UploadState state)
    {
        state.Hasher?.Dispose();
        state.Hasher = null;
        state.Processor = null;
    }

    /// <summary>
    /// Gives the writer a hash and a processor: kept in memory across resumes, or made again after a restart or a
    /// failure, the hash from the bytes on disk and the processor from its checkpoint in the record.
    /// </summary>
    /// <returns>
    /// Where the bytes that the hash and the processor have not seen start: the bytes received, or the checkpoint's
    /// offset when they were made again. The caller queues the bytes on disk past it to the worker first.
    /// </returns>
    private async Task<long> PrepareAsync(UploadState state, CancellationToken cancellationToken)
    {
        var received = state.ReceivedBytes;
        if (state.Hasher is not null)
            return received;
        var checkpoint = state.Record.Processed;
        var processor = CreateProcessor(state.Record, checkpoint);
        // A record from before checkpoints: its rows were published as they arrived, so its processor looks at them
        // again without publishing, as before.
        var replay = checkpoint is null ? processor : null;
        var processed = processor is null || checkpoint is null ? received : checkpoint.Bytes;
        if (processed > received)
            throw new InvalidDataException($"Upload {state.Id} has {received} bytes on disk, fewer than the {processed} it processed.");

        var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            await ReadBackAsync(state.Id, processed, hasher, replay, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Half fed, the hash would be taken for a whole one by the next writer: it starts over instead.
            hasher.Dispose();
            throw;
        }
        state.Hasher = hasher;
        state.Processor = processor;
        return processed;
    }

    /// <summary>Feeds the first <paramref name="length"/> bytes on disk to the hash (and to <paramref name="replay"/>, which publishes nothing).</summary>
    private async Task ReadBackAsync(string id, long length, IncrementalHash hasher, IUploadProcessor? replay, CancellationToken cancellationToken)
    {
        if (length == 0)
            return;
        await Task.Run(
            async () =>
            {
                await using var file = _store.OpenRead(id, 0);
                var buffer = new byte[RebuildChunkBytes];
                for (var remaining = length; remaining > 0;)
                {
                    var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        throw new InvalidDataException($"Upload {id} has fewer bytes on disk than recorded.");
                    hasher.AppendData(buffer, 0, read);
                    if (replay is not null)
                        await replay.ProcessAsync(buffer.AsMemory(0, read), publisher: null, cancellationToken).ConfigureAwait(false);
                    remaining -= read;
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task FinishAsync(UploadState state, IUploadWriteSlot slot, Publisher publisher, CancellationToken cancellationToken)
    {
        var processor = state.Processor;
        if (processor is not null)
        {
            // Its last row is published here: not by a writer that may have lost the upload to another.
            slot.EnsureHeld();
            try
            {
                await processor.CompleteAsync(publisher, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // As in the worker: what it handled is kept, and the next writer goes on from there.
                UploadsLog.ProcessingFailed(_logger, state.Id, ex);
                Forget(state);
                try
                {
                    slot.EnsureHeld();
                    await _store.SaveAsync(state.SetProcessed(processor.Checkpoint), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception saveError)
                {
                    UploadsLog.CheckpointNotSaved(_logger, state.Id, saveError);
                }
                throw;
            }
        }
        var sha256 = Convert.ToHexStringLower(state.Hasher!.GetHashAndReset());
        state.Hasher.Dispose();
        state.Hasher = null;
        var now = _time.GetUtcNow().UtcDateTime;

        if (state.Record.ExpectedSha256 is { } expected && expected != sha256)
        {
            var error = $"sha256 mismatch: the complete file's SHA-256 is {sha256}, the request declared {expected}; its bytes were deleted.";
            slot.EnsureHeld();
            // A failed upload keeps no bytes, so it frees its share of its owner's quota at once.
            await _coordinator.RemoveAsync(state.Record.OwnerId!, 1, state.ReceivedBytes).ConfigureAwait(false);
            // The failure is saved before the bytes go: a crash in between leaves the bytes of a failed upload, which
            // the next start deletes, rather than an unfinished upload whose bytes are missing.
            await _store.SaveAsync(state.Fail(error, now), CancellationToken.None).ConfigureAwait(false);
            _coordinator.Changed(state.Id);
            try
            {
                _store.DeleteData(state.Id);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                UploadsLog.FilesNotDeleted(_logger, state.Id, ex);
            }
            UploadsLog.Failed(_logger, state.Id, error);
            throw new UploadException(SensorHubErrors.UploadFailed, $"Upload '{state.Id}' failed: {error}");
        }

        // Not cancellable, as the failure's record above: the state in memory is complete now, and so must be the one on disk.
        slot.EnsureHeld();
        await _store.SaveAsync(state.Complete(sha256, processor?.Checkpoint, now), CancellationToken.None).ConfigureAwait(false);
        _coordinator.Changed(state.Id);
        _metrics.Completed();
        UploadsLog.Completed(_logger, state.Id, state.ReceivedBytes, sha256);
    }
}
