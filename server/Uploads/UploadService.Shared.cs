using System.Runtime.CompilerServices;
using SensorHub.Contracts;

namespace SensorHub.Server.Uploads;

/// <summary>
/// A data folder shared by several nodes (<see cref="IUploadCoordinator.IsShared"/>): the folder is the truth, and
/// what a node holds in memory is only a cache of it, read again whenever it could be stale.
/// </summary>
internal sealed partial class UploadService
{
    /// <summary>
    /// How often a watch on a shared folder reads the upload again when no change was announced: the guard against an
    /// announcement lost (Redis pub/sub delivers at most once).
    /// </summary>
    internal static readonly TimeSpan SharedWatchPoll = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Leftovers deleted at start and by the janitor: all of them in a folder of the node's own; in a shared one only
    /// those untouched for a minute, since a record half written may be one another node is writing now.
    /// </summary>
    private TimeSpan LeftoversOlderThan => _coordinator.IsShared ? TimeSpan.FromMinutes(1) : TimeSpan.Zero;

    /// <summary>
    /// An upload as the folder has it now, in the node's map; <see langword="null"/> (and out of the map) once its
    /// record is gone. A writer of this node keeps its own view, which is newer than the folder's.
    /// </summary>
    private async Task<UploadState?> ReloadAsync(string uploadId, CancellationToken cancellationToken)
    {
        if (await _store.TryLoadAsync(uploadId, cancellationToken).ConfigureAwait(false) is not var (record, bytes))
        {
            if (_uploads.TryGetValue(uploadId, out var gone) && !gone.IsWriting)
                _uploads.TryRemove(uploadId, out _);
            return null;
        }
        var state = _uploads.GetOrAdd(uploadId, _ => new UploadState(record, bytes));
        state.ReloadIfIdle(record, bytes);
        return state;
    }

    /// <summary>Reads every record in the folder again into the node's map, dropping those that are gone.</summary>
    private async Task<List<(UploadRecord Record, long Bytes)>> RefreshAllAsync(TimeSpan? leftoversOlderThan, CancellationToken cancellationToken)
    {
        var uploads = await _store.LoadAllAsync(leftoversOlderThan, cancellationToken).ConfigureAwait(false);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (record, bytes) in uploads)
        {
            ids.Add(record.Id);
            _uploads.GetOrAdd(record.Id, _ => new UploadState(record, bytes)).ReloadIfIdle(record, bytes);
        }
        foreach (var (id, state) in _uploads)
        {
            if (!ids.Contains(id) && !state.IsWriting)
                _uploads.TryRemove(id, out _);
        }
        return uploads;
    }

    /// <summary>
    /// Under the write slot of a shared folder: the record and the bytes as the last writer, on whatever node, left
    /// them, and neither hash nor processor from memory (another node may have written since this one made them):
    /// the writer makes them again from the bytes on disk and the record's checkpoint.
    /// </summary>
    /// <returns>Whether the upload still exists.</returns>
    private async Task<bool> ReloadUnderSlotAsync(UploadState state, CancellationToken cancellationToken)
    {
        Forget(state);
        if (await _store.TryLoadAsync(state.Id, cancellationToken).ConfigureAwait(false) is not var (record, bytes))
        {
            _uploads.TryRemove(state.Id, out _);
            return false;
        }
        state.Reload(record, bytes);
        return true;
    }

    /// <summary>
    /// A watch over a shared folder: the upload's status as the folder has it, read again each time any node announces
    /// a change (and at least every <see cref="SharedWatchPoll"/>), each one sent when it differs from the last; it
    /// ends after the final status, when the upload is deleted (with the error it was deleted for), or when the server
    /// stops.
    /// </summary>
    private async IAsyncEnumerable<UploadStatus> WatchSharedAsync(UploadState state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Stopping);
        // Following before the first read: a change made after the read is announced to this watch.
        var changes = await _coordinator.FollowAsync(state.Id, cancellationToken).ConfigureAwait(false);
        await using (changes.ConfigureAwait(false))
        {
            await _hooks.AfterWatchAsync(state.Id, cancellationToken).ConfigureAwait(false);
            UploadStatus? last = null;
            while (true)
            {
                if (await ReloadAsync(state.Id, cancellationToken).ConfigureAwait(false) is not { } current)
                {
                    // Deleted by the janitor (on any node) while unfinished: as on one node, the watch ends with the
                    // failure it was deleted for.
                    if (last is not null)
                        yield return last with { Error = $"deleted: untouched for longer than {_options.StaleAfter}" };
                    yield break;
                }
                var status = current.Status;
                if (last is null || status.ReceivedBytes != last.ReceivedBytes || status.Complete != last.Complete || status.Error != last.Error)
                {
                    last = status;
                    yield return status;
                }
                if (status.Complete || status.Error is not null || _shutdown.IsStopping)
                    yield break;
                try
                {
                    await changes.WaitAsync(SharedWatchPoll, stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The server stops: one last read, then the watch ends (the loop's check above).
                }
            }
        }
    }
}
