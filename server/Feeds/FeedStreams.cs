using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The generators behind <c>Subscribe</c> and <c>SubscribeBatches</c>. Each owns its subscription from its first
/// step to its <c>finally</c>: SignalR cancels the token when the client cancels the stream or the connection goes
/// away, the engine completes the live buffer when the server stops, and either way the <c>finally</c> detaches the
/// subscription and releases its buffer.
/// </summary>
public sealed class FeedStreams(
    IFeedEngine engine,
    IReadingHistory history,
    IOptions<FeedOptions> options,
    TimeProvider time,
    ShutdownSignal shutdown,
    ILogger<FeedStreams> logger)
{
    private readonly FeedOptions _options = options.Value;

    /// <summary>One sensor's readings, one at a time. Arguments are expected to be valid already.</summary>
    /// <exception cref="UnknownSensorException">On the first step, when the sensor is unknown.</exception>
    public async IAsyncEnumerable<Reading> ReadingsAsync(
        string sensorId,
        SubscribeOptions? subscribeOptions,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The subscription is opened inside the generator, not before it: a generator that is never started
        // never reaches its finally, and a subscription opened outside it would then never be released.
        using var cursor = Open(sensorId, subscribeOptions);
        using var waiting = Waiting(subscribeOptions, cancellationToken);
        try
        {
            while (await WaitToReadAsync(cursor, waiting, cancellationToken).ConfigureAwait(false))
            {
                while (cursor.TryRead(out var reading))
                    yield return reading;
            }
        }
        finally
        {
            FeedsLog.StreamEnded(logger, sensorId, cancellationToken.IsCancellationRequested);
        }
    }

    /// <summary>One sensor's readings, as many at a time as are ready, up to <see cref="FeedOptions.MaxBatchSize"/>.</summary>
    /// <exception cref="UnknownSensorException">On the first step, when the sensor is unknown.</exception>
    public async IAsyncEnumerable<Reading[]> BatchesAsync(
        string sensorId,
        SubscribeOptions? subscribeOptions,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var cursor = Open(sensorId, subscribeOptions);
        using var waiting = Waiting(subscribeOptions, cancellationToken);
        var batch = new List<Reading>(Math.Min(_options.MaxBatchSize, 64));
        try
        {
            while (await WaitToReadAsync(cursor, waiting, cancellationToken).ConfigureAwait(false))
            {
                // No timer: a batch is what is ready now, so an idle feed adds no delay and a busy one fills batches.
                while (batch.Count < _options.MaxBatchSize && cursor.TryRead(out var reading))
                    batch.Add(reading);
                if (batch.Count == 0)
                    continue;
                var items = batch.ToArray();
                batch.Clear();
                yield return items;
            }
        }
        finally
        {
            FeedsLog.StreamEnded(logger, sensorId, cancellationToken.IsCancellationRequested);
        }
    }

    /// <summary>
    /// What a paced (<c>maxRate</c>) stream waits with: its call's token, and the server's stop, since the wait for the
    /// next slot can last as long as 1/<c>maxRate</c>. A paced stream skips readings on purpose, so at a stop it
    /// completes at once rather than hold the stop up. Others wait with the call's token alone: the engine completes
    /// their buffers at a stop, and they send what is buffered first. <see langword="null"/> for those.
    /// </summary>
    private CancellationTokenSource? Waiting(SubscribeOptions? subscribeOptions, CancellationToken cancellationToken) =>
        subscribeOptions?.MaxRate is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, shutdown.Stopping);

    /// <summary>Whether the cursor has more; false, not an error, when the server's stop ended a paced stream's wait.</summary>
    private static async ValueTask<bool> WaitToReadAsync(FeedCursor cursor, CancellationTokenSource? waiting, CancellationToken cancellationToken)
    {
        if (waiting is null)
            return await cursor.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await cursor.WaitToReadAsync(waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private FeedCursor Open(string sensorId, SubscribeOptions? subscribeOptions)
    {
        var mode = subscribeOptions?.MaxRate is null ? LiveBufferMode.Queue : LiveBufferMode.Latest;
        var subscription = engine.Subscribe(sensorId, mode) ?? throw new UnknownSensorException(sensorId);
        FeedsLog.StreamStarted(logger, sensorId, subscribeOptions?.FromSequence, subscribeOptions?.MaxRate);
        return new FeedCursor(
            subscription,
            history,
            sensorId,
            subscribeOptions?.FromSequence,
            subscribeOptions?.MaxRate,
            _options.ReplayPageSize,
            time);
    }
}
