using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The generators behind <c>Subscribe</c>, <c>SubscribeBatches</c> and <c>SubscribeMany</c>. Each owns its subscription from its first
/// step to its <c>finally</c>: SignalR cancels the token when the client cancels the stream or the connection goes
/// away, the engine completes the live buffer when the server stops, and either way the <c>finally</c> detaches the
/// subscription and releases its buffer.
/// </summary>
/// <param name="metrics">Where interrupted streams are counted; <see langword="null"/> in tests that build the streams alone.</param>
public sealed class FeedStreams(
    IFeedEngine engine,
    IReadingHistory history,
    IOptions<FeedOptions> options,
    TimeProvider time,
    ILogger<FeedStreams> logger,
    FeedMetrics? metrics = null)
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
        using var cursor = await OpenAsync(sensorId, subscribeOptions, cancellationToken).ConfigureAwait(false);
        cursor.EndOn(cancellationToken);
        try
        {
            while (await cursor.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (cursor.TryRead(out var reading))
                    yield return reading;
            }
            // Cancelling ends the cursor's waits without throwing (EndOn): the stream still ends as cancelled.
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            Ended(cursor, SensorHubMethods.Subscribe, sensorId, cancellationToken);
        }
    }

    /// <summary>One sensor's readings, as many at a time as are ready, up to <see cref="FeedOptions.MaxBatchSize"/>.</summary>
    /// <exception cref="UnknownSensorException">On the first step, when the sensor is unknown.</exception>
    public async IAsyncEnumerable<Reading[]> BatchesAsync(
        string sensorId,
        SubscribeOptions? subscribeOptions,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var cursor = await OpenAsync(sensorId, subscribeOptions, cancellationToken).ConfigureAwait(false);
        cursor.EndOn(cancellationToken);
        var batch = new List<Reading>(Math.Min(_options.MaxBatchSize, 64));
        try
        {
            while (await cursor.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
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
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            Ended(cursor, SensorHubMethods.SubscribeBatches, sensorId, cancellationToken);
        }
    }

    /// <summary>
    /// The readings of every sensor that matches <paramref name="pattern"/> and <paramref name="visible"/> lets the
    /// caller read, those that appear later included, as many at a time as are ready, up to
    /// <see cref="FeedOptions.MaxBatchSize"/>: see <see cref="ManyFeedCursor"/>. Arguments are expected to be valid
    /// already. Everything (the watch, the shared buffer, a subscription per sensor) is opened on the first step and
    /// released in the <c>finally</c>.
    /// </summary>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>: the engine lost its backend (after what was buffered).</exception>
    public async IAsyncEnumerable<Reading[]> ManyAsync(
        SensorPattern pattern,
        SubscribeManyOptions? subscribeManyOptions,
        Predicate<string>? visible,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var cursor = new ManyFeedCursor(
            engine,
            history,
            pattern,
            subscribeManyOptions,
            visible,
            _options.SubscribeManyBufferCapacity,
            _options.MaxBatchSize,
            _options.ReplayPageSize,
            time);
        var batch = new List<Reading>(Math.Min(_options.MaxBatchSize, 64));
        try
        {
            await cursor.OpenAsync(cancellationToken).ConfigureAwait(false);
            FeedsLog.ManyStreamStarted(
                logger, pattern.Text, cursor.Sensors, subscribeManyOptions?.FromSequences?.Count ?? 0, subscribeManyOptions?.MaxRate);
            while (await cursor.ReadAsync(batch, cancellationToken).ConfigureAwait(false))
            {
                var items = batch.ToArray();
                batch.Clear();
                yield return items;
            }
        }
        finally
        {
            var cancelled = cancellationToken.IsCancellationRequested;
            if (!cancelled && cursor.Interrupted)
                metrics?.StreamInterrupted(SensorHubMethods.SubscribeMany);
            FeedsLog.ManyStreamEnded(logger, pattern.Text, cursor.Sensors, cancelled);
        }
    }

    /// <summary>Logs the end of a stream, and counts it as interrupted when the backend's loss ended it (not the client).</summary>
    private void Ended(FeedCursor cursor, string method, string sensorId, CancellationToken cancellationToken)
    {
        var cancelled = cancellationToken.IsCancellationRequested;
        if (!cancelled && cursor.Interrupted)
            metrics?.StreamInterrupted(method);
        FeedsLog.StreamEnded(logger, sensorId, cancelled);
    }

    private async ValueTask<FeedCursor> OpenAsync(string sensorId, SubscribeOptions? subscribeOptions, CancellationToken cancellationToken)
    {
        var mode = subscribeOptions?.MaxRate is null ? LiveBufferMode.Queue : LiveBufferMode.Latest;
        var subscription = await engine.SubscribeAsync(sensorId, mode, cancellationToken).ConfigureAwait(false)
            ?? throw new UnknownSensorException(sensorId);
        try
        {
            var cursor = new FeedCursor(
                subscription,
                history,
                sensorId,
                subscribeOptions?.FromSequence,
                subscribeOptions?.MaxRate,
                _options.ReplayPageSize,
                time);
            FeedsLog.StreamStarted(logger, sensorId, subscribeOptions?.FromSequence, subscribeOptions?.MaxRate);
            return cursor;
        }
        catch
        {
            // Whatever was acquired is released if anything after the acquisition throws: a subscription left
            // attached here would be written to by every later publish, and no generator would ever dispose it.
            subscription.Dispose();
            throw;
        }
    }
}
