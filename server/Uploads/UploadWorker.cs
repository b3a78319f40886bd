using System.Threading.Channels;

namespace SensorHub.Server.Uploads;

/// <summary>
/// Hashes and processes an upload's chunks on a worker of its own, so that parsing a large file never runs on the
/// path that receives chunks or delivers readings. Its queue is bounded (backpressure to the writer) and it always
/// drains: every chunk written to disk is hashed and processed, also when the client's stream breaks.
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
    private readonly Task _run;

    public UploadWorker(UploadState state) => _run = Task.Run(() => RunAsync(state));

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

    private async Task RunAsync(UploadState state)
    {
        try
        {
            await foreach (var chunk in _chunks.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                state.Hasher!.AppendData(chunk);
                if (state.Processor is { } processor)
                    await processor.ProcessAsync(chunk, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The writer must not wait on a worker that is gone.
            _chunks.Writer.TryComplete(ex);
            throw;
        }
    }
}
