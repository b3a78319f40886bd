using System.Threading.Channels;
using SensorHub.Server.Feeds;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Server.Uploads;

/// <summary>
/// Hashes and processes an upload's chunks on a worker of its own, so that parsing a large file never runs on the
/// path that receives chunks or delivers readings. Its queue is bounded (backpressure to the writer) and it always
/// drains: every chunk written to disk is hashed and processed, also when the client's stream breaks. After each
/// chunk it saves how far the processor got (<see cref="UploadRecord.Processed"/>), so that chunks on disk that it
/// never reached (a crash, a failure) are processed by the next writer instead of being lost.
/// </summary>
internal sealed class UploadWorker
{
    private const int QueuedChunks = 4;
    private readonly Channel<byte[]> _chunks = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(QueuedChunks)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly UploadState _state;
    private readonly Publisher _publisher;
    private readonly Func<ProcessingCheckpoint, Task> _saveCheckpoint;
    private readonly Action _ensureHeld;
    private readonly UploadHooks _hooks;
    private readonly ILogger _logger;
    private readonly Task _run;
    private long _digested;
    private long _saved;

    /// <param name="state">The upload, whose hasher and processor have seen its first <paramref name="offset"/> bytes.</param>
    /// <param name="offset">Where the first chunk queued starts.</param>
    /// <param name="publisher">The writer, as a publisher of the CSV's rows.</param>
    /// <param name="saveCheckpoint">Saves the processor's checkpoint in the upload's record.</param>
    /// <param name="ensureHeld">Throws unless the writer still holds the upload's write slot: nothing is processed (published) without it.</param>
    /// <param name="hooks">Where a test stops the worker.</param>
    /// <param name="logger">The service's logger.</param>
    public UploadWorker(
        UploadState state, long offset, Publisher publisher, Func<ProcessingCheckpoint, Task> saveCheckpoint, Action ensureHeld, UploadHooks hooks, ILogger logger)
    {
        _state = state;
        _digested = offset;
        _publisher = publisher;
        _saveCheckpoint = saveCheckpoint;
        _ensureHeld = ensureHeld;
        _hooks = hooks;
        _logger = logger;
        _saved = state.Processor?.Checkpoint.Bytes ?? 0;
        _run = Task.Run(RunAsync);
    }

    /// <summary>The bytes the hash has seen, from the upload's start; once drained, the upload's bytes unless a chunk on disk never reached the queue.</summary>
    public long Digested => Volatile.Read(ref _digested);

    /// <summary>
    /// Queues a chunk already on disk. Deliberately not cancellable: a chunk on disk that the hash never saw would
    /// make the upload's hash wrong.
    /// </summary>
    public ValueTask EnqueueAsync(byte[] chunk) => _chunks.Writer.WriteAsync(chunk, CancellationToken.None);

    /// <summary>Waits until every queued chunk is hashed and processed.</summary>
    public Task DrainAsync()
    {
        _chunks.Writer.TryComplete();
        return _run;
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var chunk in _chunks.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await _hooks.BeforeProcessingAsync(_state.Id, _digested, CancellationToken.None).ConfigureAwait(false);
                _ensureHeld();
                _state.Hasher!.AppendData(chunk);
                Volatile.Write(ref _digested, _digested + chunk.Length);
                if (_state.Processor is { } processor)
                {
                    await processor.ProcessAsync(chunk, _publisher, CancellationToken.None).ConfigureAwait(false);
                    await SaveCheckpointAsync(processor).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            // The writer must not wait on a worker that is gone.
            _chunks.Writer.TryComplete(ex);
            // The processor's checkpoint covers exactly the rows it handled before the failure: saved, the next writer
            // goes on from the row that failed, and the rows before it are not published twice.
            if (_state.Processor is { } processor)
            {
                try
                {
                    await SaveCheckpointAsync(processor).ConfigureAwait(false);
                }
                catch (Exception saveError)
                {
                    UploadsLog.CheckpointNotSaved(_logger, _state.Id, saveError);
                }
            }
            throw;
        }
    }

    /// <summary>Saves the checkpoint when the processor got further than the last one saved.</summary>
    private async Task SaveCheckpointAsync(IUploadProcessor processor)
    {
        var checkpoint = processor.Checkpoint;
        if (checkpoint.Bytes == _saved)
            return;
        await _saveCheckpoint(checkpoint).ConfigureAwait(false);
        _saved = checkpoint.Bytes;
    }
}
