namespace SensorHub.Server.Uploads;

/// <summary>
/// Places inside the upload machinery where a test stops, pauses or fails it, to make a crash or a race happen at
/// one exact point: a worker stopped between writing a chunk and processing it, a writer or the janitor paused just
/// before the write slot, a writer paused after a chunk passed its checks (its quota and disk space reserved) and
/// before it is written, a watch that fails right after its registration, a janitor's sweep that fails. Only tests register one (as a singleton);
/// the server runs without it, and then every place is a no-op.
/// </summary>
internal sealed class UploadHooks
{
    /// <summary>The server's: no hook anywhere.</summary>
    public static UploadHooks None { get; } = new();

    /// <summary>Before the worker hashes and processes a chunk that is already on disk: the upload's id and the chunk's offset.</summary>
    public Func<string, long, CancellationToken, Task>? BeforeProcessing { get; init; }

    /// <summary>Before a writer takes the upload's write slot, after the checks of its arguments: the upload's id and the writer's offset.</summary>
    public Func<string, long, CancellationToken, Task>? BeforeWriteSlot { get; init; }

    /// <summary>Before the janitor takes the write slot of an upload that looked stale.</summary>
    public Func<string, CancellationToken, Task>? BeforeJanitorSlot { get; init; }

    /// <summary>
    /// After a chunk passed every check and its bytes were reserved (the owner's quota, the disk's free space), before
    /// it is written: the upload's id and the chunk's offset.
    /// </summary>
    public Func<string, long, CancellationToken, Task>? BeforeChunkWrite { get; init; }

    /// <summary>At the start of each of the janitor's sweeps.</summary>
    public Func<CancellationToken, Task>? BeforeSweep { get; init; }

    /// <summary>After a <c>WatchUpload</c> watcher is registered, before its first status is sent.</summary>
    public Func<string, CancellationToken, Task>? AfterWatch { get; init; }

    internal Task BeforeProcessingAsync(string uploadId, long offset, CancellationToken cancellationToken) =>
        BeforeProcessing?.Invoke(uploadId, offset, cancellationToken) ?? Task.CompletedTask;

    internal Task BeforeWriteSlotAsync(string uploadId, long offset, CancellationToken cancellationToken) =>
        BeforeWriteSlot?.Invoke(uploadId, offset, cancellationToken) ?? Task.CompletedTask;

    internal Task BeforeJanitorSlotAsync(string uploadId, CancellationToken cancellationToken) =>
        BeforeJanitorSlot?.Invoke(uploadId, cancellationToken) ?? Task.CompletedTask;

    internal Task BeforeChunkWriteAsync(string uploadId, long offset, CancellationToken cancellationToken) =>
        BeforeChunkWrite?.Invoke(uploadId, offset, cancellationToken) ?? Task.CompletedTask;

    internal Task BeforeSweepAsync(CancellationToken cancellationToken) =>
        BeforeSweep?.Invoke(cancellationToken) ?? Task.CompletedTask;

    internal Task AfterWatchAsync(string uploadId, CancellationToken cancellationToken) =>
        AfterWatch?.Invoke(uploadId, cancellationToken) ?? Task.CompletedTask;
}
