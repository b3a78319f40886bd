using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Uploads;

/// <summary>What a writer may append, and how much: ownership, the size limits, the owner's quota, the disk's floor.</summary>
internal sealed partial class UploadService
{
    /// <summary>
    /// Writes one chunk that passed <see cref="CheckChunk"/>, once its owner's quota and the disk's floor allow it.
    /// Both are reserved before the write and checked under that reservation, so that uploads writing at once never
    /// pass a limit together; a chunk refused or not written gives its reservation back, and the upload keeps what it
    /// had.
    /// </summary>
    private async Task WriteChunkAsync(UploadState state, IUploadWriteSlot slot, FileStream file, byte[] chunk, CancellationToken cancellationToken)
    {
        // Only uploads with an owner take bytes (CheckMayAppend).
        var ownerId = state.Record.OwnerId!;
        var (added, stored) = await _coordinator.TryAddBytesAsync(ownerId, chunk.Length, _options.MaxBytesPerOwner).ConfigureAwait(false);
        if (!added)
        {
            throw new UploadException(
                SensorHubErrors.QuotaExceeded,
                $"Quota exceeded: a chunk of {chunk.Length} bytes would take the uploads of this upload's owner past {_options.MaxBytesPerOwner} bytes, the most one owner may store (MaxBytesPerOwner; {stored} stored now); it was refused and the upload keeps its {state.ReceivedBytes} bytes.");
        }
        var written = false;
        var beingWritten = Interlocked.Add(ref _bytesBeingWritten, chunk.Length);
        try
        {
            CheckFreeSpace(state, chunk.Length, beingWritten);
            await _hooks.BeforeChunkWriteAsync(state.Id, state.ReceivedBytes, cancellationToken).ConfigureAwait(false);
            // Last before the write: a writer that lost its slot (to another node, after its lease ran out) writes
            // nothing more. And the fence: in a shared folder the file must still end where this writer left it.
            slot.EnsureHeld();
            if (_coordinator.IsShared && file.Length != state.ReceivedBytes)
                throw slot.Lost();
            // Neither the write nor the flush is cancellable: a chunk is taken whole or not at all.
            await file.WriteAsync(chunk, CancellationToken.None).ConfigureAwait(false);
            await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            written = true;
        }
        finally
        {
            // Written, the bytes are in the disk's free space now, and stay in the owner's share.
            Interlocked.Add(ref _bytesBeingWritten, -chunk.Length);
            if (!written)
                await _coordinator.RemoveAsync(ownerId, 0, chunk.Length).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses a chunk that would leave less than <see cref="UploadOptions.MinFreeDiskBytes"/> free, counting the
    /// chunks other uploads are writing now (<paramref name="beingWritten"/>, this one included) as already taken.
    /// </summary>
    private void CheckFreeSpace(UploadState state, int length, long beingWritten)
    {
        var floor = _options.MinFreeDiskBytes;
        if (floor == 0)
            return;
        var free = _disk.FreeBytes(_store.Root);
        if (free - beingWritten >= floor)
            return;
        throw new UploadException(
            SensorHubErrors.InsufficientStorage,
            $"Insufficient storage: a chunk of {length} bytes would leave less than {floor} bytes free on the server's disk (MinFreeDiskBytes; {free} free now); it was refused and the upload keeps its {state.ReceivedBytes} bytes. Resume later.");
    }

    /// <summary>
    /// Only the owner (by id) and admins append; an upload without an owner (its record is from before uploads were
    /// owned by subject) takes no more bytes from anyone, since nobody's quota would count them.
    /// </summary>
    private static void CheckMayAppend(UploadState state, SensorHubUser user)
    {
        var ownerId = state.Record.OwnerId;
        if (ownerId is null)
        {
            throw new UploadException(
                SensorHubErrors.NotAllowed,
                $"Not allowed: upload '{state.Id}' has no owner (it was begun before uploads were owned by their token's subject); nobody may append to it. Begin a new upload.");
        }
        if (!user.Is(ownerId) && !user.IsAdmin)
            throw new UploadException(SensorHubErrors.NotAllowed, $"Not allowed: upload '{state.Id}' belongs to another user; only they or an admin may append to it.");
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
}
