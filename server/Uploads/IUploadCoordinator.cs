namespace SensorHub.Server.Uploads;

/// <summary>
/// What differs between one node alone with its data folder and several nodes sharing one: who may write an upload
/// (its write slot), who learns of a change, whose turn the janitor's sweep is, and where the owners' quotas are
/// counted. The in-memory coordinator (<see cref="InMemoryUploadCoordinator"/>) keeps all of it in the process; the
/// Redis one (<c>RedisUploadCoordinator</c>) in Redis, for nodes that mount one data folder.
/// </summary>
internal interface IUploadCoordinator
{
    /// <summary>
    /// Whether other nodes read and write the same data folder: then no upload in memory is trusted, each call reads
    /// its record and bytes again from the folder (under the write slot for a writer), and watches follow the folder.
    /// </summary>
    bool IsShared { get; }

    /// <summary>Refuses at once what needs the coordination when it cannot be had (Redis unavailable).</summary>
    void ThrowIfUnavailable();

    /// <summary>
    /// Takes the upload's write slot, or <see langword="null"/> when another writer (on any node, the janitor too)
    /// holds it. Disposing the slot gives it back.
    /// </summary>
    Task<IUploadWriteSlot?> TryTakeWriteSlotAsync(UploadState state, CancellationToken cancellationToken);

    /// <summary>The janitor's turn for one sweep, or <see langword="null"/> when another node sweeps now.</summary>
    Task<IAsyncDisposable?> TryTakeJanitorTurnAsync(CancellationToken cancellationToken);

    /// <summary>Tells the other nodes that an upload's record or bytes changed (for their watchers). Never waits, never throws.</summary>
    void Changed(string uploadId);

    /// <summary>
    /// Follows the changes other nodes announce for an upload (<see cref="Changed"/>), for a watch; only used when
    /// <see cref="IsShared"/>.
    /// </summary>
    Task<IUploadChanges> FollowAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Counts one more upload for <paramref name="ownerId"/> unless they keep <paramref name="most"/> already.</summary>
    Task<(bool Added, int Kept)> TryAddUploadAsync(string ownerId, int most);

    /// <summary>Reserves <paramref name="bytes"/> for <paramref name="ownerId"/> unless they would pass <paramref name="most"/>.</summary>
    Task<(bool Added, long Stored)> TryAddBytesAsync(string ownerId, long bytes, long most);

    /// <summary>Gives back <paramref name="uploads"/> uploads and <paramref name="bytes"/> bytes of an owner's share.</summary>
    Task RemoveAsync(string ownerId, int uploads, long bytes);

    /// <summary>
    /// The uploads (not failed, with an owner) the records in the folder hold, so what each owner keeps (at start, and, when shared, at each sweep): the in-memory
    /// coordinator counts them at start; the Redis one sets the cluster's counts to them, which corrects any drift.
    /// </summary>
    Task CountedAsync(IReadOnlyList<(string OwnerId, long Bytes)> uploads, bool atStart);

    /// <summary>What <paramref name="ownerId"/> keeps now, for tests that look inside.</summary>
    Task<(int Uploads, long Bytes)> QuotaOfAsync(string ownerId);
}

/// <summary>A held write slot: on one node a flag, across nodes a lease in Redis.</summary>
internal interface IUploadWriteSlot : IAsyncDisposable
{
    /// <summary>Cancelled once the slot is lost (its lease could not be renewed): the writer stops and fails with <see cref="Lost"/>'s error.</summary>
    CancellationToken LostToken { get; }

    /// <summary>
    /// Throws (<c>backend_unavailable</c>) unless the slot is surely still held: called before each write of a chunk,
    /// of a record and before each chunk's processing, so that a writer that lost its lease changes nothing.
    /// </summary>
    void EnsureHeld();

    /// <summary>The error a writer whose slot was lost ends with.</summary>
    SensorHubException Lost();
}

/// <summary>An upload's changes announced by any node.</summary>
internal interface IUploadChanges : IAsyncDisposable
{
    /// <summary>Returns once a change is announced, or after <paramref name="atMost"/>, whichever comes first.</summary>
    Task WaitAsync(TimeSpan atMost, CancellationToken cancellationToken);
}

/// <summary>One node alone with its data folder: today's behaviour, everything in the process.</summary>
internal sealed class InMemoryUploadCoordinator(long maxBytesPerOwner, int maxUploadsPerOwner) : IUploadCoordinator
{
    private readonly UploadQuotas _quotas = new(maxBytesPerOwner, maxUploadsPerOwner);

    public bool IsShared => false;

    public void ThrowIfUnavailable()
    {
    }

    public Task<IUploadWriteSlot?> TryTakeWriteSlotAsync(UploadState state, CancellationToken cancellationToken) =>
        Task.FromResult<IUploadWriteSlot?>(state.TryBeginWrite() ? new Slot(state) : null);

    public Task<IAsyncDisposable?> TryTakeJanitorTurnAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable?>(NoTurn.Instance);

    public void Changed(string uploadId)
    {
    }

    public Task<IUploadChanges> FollowAsync(string uploadId, CancellationToken cancellationToken) =>
        throw new NotSupportedException("One node alone: its watchers follow the upload in memory.");

    public Task<(bool Added, int Kept)> TryAddUploadAsync(string ownerId, int most)
    {
        var added = _quotas.TryAddUpload(ownerId, out var kept);
        return Task.FromResult((added, kept));
    }

    public Task<(bool Added, long Stored)> TryAddBytesAsync(string ownerId, long bytes, long most)
    {
        var added = _quotas.TryAddBytes(ownerId, bytes, out var stored);
        return Task.FromResult((added, stored));
    }

    public Task RemoveAsync(string ownerId, int uploads, long bytes)
    {
        if (uploads == 0)
            _quotas.RemoveBytes(ownerId, bytes);
        else
            _quotas.RemoveUpload(ownerId, bytes);
        return Task.CompletedTask;
    }

    public Task CountedAsync(IReadOnlyList<(string OwnerId, long Bytes)> uploads, bool atStart)
    {
        // One node alone counts from the records once, at start; from then on its counts are exact.
        if (atStart)
        {
            foreach (var (ownerId, bytes) in uploads)
                _quotas.AddLoaded(ownerId, bytes);
        }
        return Task.CompletedTask;
    }

    public Task<(int Uploads, long Bytes)> QuotaOfAsync(string ownerId) => Task.FromResult(_quotas.Of(ownerId));

    private sealed class Slot(UploadState state) : IUploadWriteSlot
    {
        public CancellationToken LostToken => CancellationToken.None;

        public void EnsureHeld()
        {
        }

        public SensorHubException Lost() => throw new InvalidOperationException("A slot in memory is never lost.");

        public ValueTask DisposeAsync()
        {
            state.EndWrite();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class NoTurn : IAsyncDisposable
    {
        public static NoTurn Instance { get; } = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
