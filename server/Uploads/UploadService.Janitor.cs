namespace SensorHub.Server.Uploads;

internal sealed partial class UploadService
{
    /// <summary>
    /// One look of the janitor: deletes unfinished and failed uploads that nobody has touched for
    /// <see cref="UploadOptions.StaleAfter"/>, and complete ones older than <see cref="UploadOptions.RetainCompleteFor"/>
    /// since they completed. Whatever goes wrong with one upload is logged and that upload is skipped (it is looked at
    /// again next time): one bad file must neither stop the server (an exception out of a <c>BackgroundService</c>
    /// does) nor keep the janitor from the others.
    /// </summary>
    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _hooks.BeforeSweepAsync(cancellationToken).ConfigureAwait(false);
        // One node sweeps at a time; the others skip their turn.
        var turn = await _coordinator.TryTakeJanitorTurnAsync(cancellationToken).ConfigureAwait(false);
        if (turn is null)
            return;
        await using (turn.ConfigureAwait(false))
            await SweepUnderTurnAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SweepUnderTurnAsync(CancellationToken cancellationToken)
    {
        if (_coordinator.IsShared)
        {
            // The folder is the truth: every upload any node began, and what each owner keeps by the records, which
            // sets the cluster's quota counts again (correcting any drift, such as a reservation of a node that died).
            var uploads = await RefreshAllAsync(LeftoversOlderThan, cancellationToken).ConfigureAwait(false);
            var counted = uploads
                .Where(u => u.Record is { Failed: false, OwnerId: not null })
                .Select(u => (u.Record.OwnerId!, u.Bytes))
                .ToList();
            await _coordinator.CountedAsync(counted, atStart: false).ConfigureAwait(false);
        }
        var now = _time.GetUtcNow().UtcDateTime;
        foreach (var state in _uploads.Values)
        {
            try
            {
                await SweepAsync(state, now, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                UploadsLog.SweepOfUploadFailed(_logger, state.Id, ex);
            }
        }
    }

    private async Task SweepAsync(UploadState state, DateTime now, CancellationToken cancellationToken)
    {
        if (Expiry(state.Record, now) is null)
            return;
        await _hooks.BeforeJanitorSlotAsync(state.Id, cancellationToken).ConfigureAwait(false);
        // A writer holds it (on any node): it is being touched, so it is not stale, and nothing completes under a writer.
        var slot = await _coordinator.TryTakeWriteSlotAsync(state, cancellationToken).ConfigureAwait(false);
        if (slot is null)
            return;
        try
        {
            if (_coordinator.IsShared && !await ReloadUnderSlotAsync(state, cancellationToken).ConfigureAwait(false))
                return;
            // Decided again under the write slot, which keeps writers off while it goes: the upload may have been
            // resumed, or even completed, since the look above.
            var record = state.Record;
            if (Expiry(record, now) is not { } expiry)
                return;
            slot.EnsureHeld();
            _uploads.TryRemove(state.Id, out _);
            if (record is { Failed: false, OwnerId: { } ownerId })
                await _coordinator.RemoveAsync(ownerId, 1, state.ReceivedBytes).ConfigureAwait(false);
            // Failing it ends its watches, and a writer that found it before it went is refused by its error.
            if (expiry == Expired.Stale && !record.Failed)
                state.Fail($"deleted: untouched for longer than {_options.StaleAfter}", now);
            Forget(state);
            try
            {
                _store.Delete(state.Id);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The upload is gone all the same; what is left of its files the next start deletes (or loads again,
                // and deletes at the next sweep, when its record could not go).
                UploadsLog.FilesNotDeleted(_logger, state.Id, ex);
                return;
            }
            _coordinator.Changed(state.Id);
            if (expiry == Expired.Stale)
                UploadsLog.StaleDeleted(_logger, state.Id);
            else
                UploadsLog.RetentionDeleted(_logger, state.Id, _options.RetainCompleteFor);
        }
        finally
        {
            await slot.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Why an upload is to be deleted at <paramref name="now"/>, or null when it stays.</summary>
    private Expired? Expiry(UploadRecord record, DateTime now)
    {
        if (!record.Complete)
            return now - record.UpdatedUtc >= _options.StaleAfter ? Expired.Stale : null;
        return _options.RetainCompleteFor > TimeSpan.Zero && now - (record.CompletedUtc ?? record.UpdatedUtc) >= _options.RetainCompleteFor
            ? Expired.Retention
            : null;
    }

    private enum Expired
    {
        /// <summary>Unfinished or failed, and untouched for <see cref="UploadOptions.StaleAfter"/>.</summary>
        Stale,

        /// <summary>Complete for <see cref="UploadOptions.RetainCompleteFor"/>.</summary>
        Retention,
    }
}
