using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Stats;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The one way readings come in, for devices (the hub's <c>Publish</c>), CSV uploads and simulated sensors alike: each
/// item is checked alone, published when valid, allowed and within the publisher's rates and the sensor caps, and
/// reported with a code when not, so a bad item never costs the items around it. Every rejection is counted in
/// <see cref="Refusals"/> by its code.
/// </summary>
public sealed class ReadingIngest(
    IFeedEngine engine, IOptions<FeedOptions> options, Refusals refusals, TimeProvider time, ILogger<ReadingIngest> logger)
{
    private readonly FeedOptions _options = options.Value;

    /// <summary>Publishes a stream of readings until it ends, and says what became of them.</summary>
    /// <param name="readings">The stream.</param>
    /// <param name="publisher">Who publishes: the sensors it may publish to (an item for any other is rejected alone) and its limits.</param>
    /// <param name="cancellationToken">Ends the stream early.</param>
    public Task<PublishResult> PublishAsync(IAsyncEnumerable<ReadingInput?> readings, Publisher publisher, CancellationToken cancellationToken) =>
        IngestAsync<ReadingInput?, OneReading>(readings, publisher, cancellationToken);

    /// <summary>
    /// Publishes a stream of batches of readings until it ends, each reading exactly as <see cref="PublishAsync"/> would
    /// (checked, rate-limited and rejected alone), and says what became of them. A rejection's index is the reading's
    /// position over the whole stream, the readings of earlier batches counted. A <see langword="null"/> batch is one
    /// rejected reading (<c>invalid_argument</c>) at the position where it would have started; an empty batch takes no
    /// position; a batch over <see cref="FeedOptions.MaxPublishBatchSize"/> is rejected whole, unread: one rejection at
    /// its first reading's position, and all its readings counted as rejected.
    /// </summary>
    /// <param name="batches">The stream.</param>
    /// <param name="publisher">Who publishes, as for <see cref="PublishAsync"/>.</param>
    /// <param name="cancellationToken">Ends the stream early.</param>
    public Task<PublishResult> PublishBatchesAsync(IAsyncEnumerable<ReadingInput?[]?> batches, Publisher publisher, CancellationToken cancellationToken) =>
        IngestAsync<ReadingInput?[]?, Batch>(batches, publisher, cancellationToken);

    /// <summary>Checks one reading and publishes it when it is valid.</summary>
    /// <returns>Why it was rejected (counted), or <see langword="null"/> when it was published.</returns>
    public ValueTask<ItemRejection?> PublishOneAsync(ReadingInput? item, Publisher publisher, CancellationToken cancellationToken) =>
        item is null
            ? ValueTask.FromResult<ItemRejection?>(Reject(SensorHubErrors.InvalidArgument, "the item is null"))
            : PublishOneAsync(item.SensorId, item.Value, item.Timestamp, publisher, cancellationToken);

    /// <summary>
    /// Checks one reading and publishes it when it is valid, <paramref name="publisher"/> may publish to its sensor,
    /// its rates allow it and, for a new sensor, the caps do.
    /// </summary>
    /// <returns>Why it was rejected (counted), or <see langword="null"/> when it was published.</returns>
    public async ValueTask<ItemRejection?> PublishOneAsync(
        string? sensorId, double value, DateTime? timestamp, Publisher publisher, CancellationToken cancellationToken)
    {
        if (Admit(sensorId, value, timestamp, publisher, out var timestampUtc) is { } rejection)
            return rejection;
        return await PublishAdmittedAsync(sensorId!, value, timestampUtc, publisher, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes one reading that passed <see cref="Admit"/>.</summary>
    /// <returns>Why the engine refused it (counted), or <see langword="null"/> when it was published.</returns>
    private async ValueTask<ItemRejection?> PublishAdmittedAsync(
        string sensorId, double value, DateTime timestampUtc, Publisher publisher, CancellationToken cancellationToken)
    {
        // With a limit on new sensors, a permit is spent only by an item whose sensor turned out unknown: the first
        // call registers nothing, and only after the permit is taken does the second one register.
        var registration = publisher.NewSensors is null ? publisher.Registration : SensorRegistration.None;
        var outcome = await engine.PublishAsync(sensorId, value, timestampUtc, registration, cancellationToken).ConfigureAwait(false);
        if (outcome.Status == PublishStatus.UnknownSensor && publisher.NewSensors is { } newSensors && publisher.Registration.Allowed)
        {
            if (Refusal(newSensors) is { } newSensorWait)
                return NewSensorRateLimited(sensorId, newSensorWait);
            outcome = await engine.PublishAsync(sensorId, value, timestampUtc, publisher.Registration, cancellationToken).ConfigureAwait(false);
        }
        return RejectionFor(outcome.Status, sensorId);
    }

    /// <summary>
    /// Publishes readings to one sensor that each passed <see cref="Admit"/>, in one call to the engine (one round trip
    /// on a distributed engine), and with a limit on new sensors spends a permit only when the sensor turned out unknown.
    /// </summary>
    /// <returns>
    /// Why the engine refused the first reading not published (counted), or <see langword="null"/> when all were
    /// published; and how many were published.
    /// </returns>
    private async ValueTask<(ItemRejection? Rejection, int Published)> PublishRunAsync(
        string sensorId, ReadOnlyMemory<ReadingValue> run, Publisher publisher, CancellationToken cancellationToken)
    {
        // As in PublishOneAsync: a permit for a new sensor is spent only when the sensor turned out unknown.
        var registration = publisher.NewSensors is null ? publisher.Registration : SensorRegistration.None;
        var outcome = await engine.PublishManyAsync(sensorId, run, registration, cancellationToken).ConfigureAwait(false);
        if (outcome.Status == PublishStatus.UnknownSensor && publisher.NewSensors is { } newSensors && publisher.Registration.Allowed)
        {
            if (Refusal(newSensors) is { } newSensorWait)
                return (NewSensorRateLimited(sensorId, newSensorWait), 0);
            outcome = await engine.PublishManyAsync(sensorId, run, publisher.Registration, cancellationToken).ConfigureAwait(false);
        }
        return (RejectionFor(outcome.Status, sensorId), outcome.Published);
    }

    /// <summary>How long an abandoned stream's pending read may take to end once cancelled.</summary>
    private static readonly TimeSpan AbandonWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Ends the read in flight of a stream that is given up (its token cancelled) and waits for it, so that the stream
    /// can be disposed. Returns whether it may be: <see langword="false"/> when the read did not end within
    /// <see cref="AbandonWait"/> (a stream that ignores its token), which is then left to the collector rather than
    /// disposed mid-read.
    /// </summary>
    private static async ValueTask<bool> AbandonAsync(ValueTask<bool> pending, CancellationTokenSource stopReading)
    {
        await stopReading.CancelAsync().ConfigureAwait(false);
        var read = pending.AsTask();
        try
        {
            await read.WaitAsync(AbandonWait).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The read's own outcome (cancelled, failed, timed out) does not matter: the flush's error is what is thrown.
        }
        return read.IsCompleted;
    }

    private ItemRejection NewSensorRateLimited(string sensorId, string wait) =>
        Reject(SensorHubErrors.RateLimited, $"sensor '{sensorId}' is new, and this connection registers sensors faster than it may; {wait}");

    /// <summary>The rejection for what the engine answered (counted), or <see langword="null"/> when it published.</summary>
    private ItemRejection? RejectionFor(PublishStatus status, string sensorId) => status switch
    {
        PublishStatus.Published or PublishStatus.Registered => null,
        PublishStatus.TooManySensors => Reject(
            SensorHubErrors.TooManySensors, $"sensor '{sensorId}' is new, and the server already holds its most sensors ({_options.MaxSensors})"),
        PublishStatus.TooManySensorsForPublisher => Reject(
            SensorHubErrors.TooManySensors,
            $"sensor '{sensorId}' is new, and you have registered {_options.MaxSensorsPerPublisher} sensors, the most one publisher may"),
        // Only a publisher that may not register asks without registering and is left with an unknown sensor.
        _ => Reject(SensorHubErrors.NotAllowed, $"sensor '{sensorId}' is new, and a token without a subject may not register sensors"),
    };

    /// <summary>
    /// The checks a reading passes before the engine sees it: valid, a sensor <paramref name="publisher"/> may publish
    /// to, within its rate (a permit taken).
    /// </summary>
    /// <returns>Why it was rejected (counted), or <see langword="null"/> with its UTC timestamp.</returns>
    private ItemRejection? Admit(string? sensorId, double value, DateTime? timestamp, Publisher publisher, out DateTime timestampUtc)
    {
        if (Check(sensorId, value, timestamp, out timestampUtc) is { } problem)
            return Reject(SensorHubErrors.InvalidArgument, problem);
        if (!publisher.MayPublish(sensorId!))
            return Reject(SensorHubErrors.NotAllowed, $"not allowed to publish to sensor '{sensorId}'");
        if (publisher.Readings is { } readings && Refusal(readings) is { } readingsWait)
            return Reject(SensorHubErrors.RateLimited, $"this connection publishes more readings a second than it may; {readingsWait}");
        return null;
    }

    /// <summary>
    /// The one loop of <see cref="PublishAsync"/> and <see cref="PublishBatchesAsync"/>: every stream item holds
    /// readings (<typeparamref name="TShape"/> says how many and which), each checked alone and numbered by its
    /// position over the whole stream. Consecutive readings for one sensor that are ready together (in one batch, or
    /// items the client sent faster than they were published) go to the engine as one run, up to
    /// <see cref="FeedOptions.MaxPublishBatchSize"/>: one round trip on a distributed engine. A run is sent before the
    /// loop waits for the client, so a reading never waits for the next one.
    /// </summary>
    private async Task<PublishResult> IngestAsync<TItem, TShape>(IAsyncEnumerable<TItem> items, Publisher publisher, CancellationToken cancellationToken)
        where TShape : struct, IStreamItemShape<TItem>
    {
        long index = 0, accepted = 0, rejected = 0;
        var rejections = new List<PublishRejection>();
        // Grows to the largest run the stream sends (at most MaxPublishBatchSize): a device that sends one reading at
        // a time keeps a small one.
        var run = new ReadingValue[Math.Min(_options.MaxPublishBatchSize, 8)];
        var runLength = 0;
        long runStart = 0;
        string? runSensor = null;
        // The stream is read with a token of its own, so that a flush that fails while the next item is awaited can
        // end that wait before the stream is disposed: an async iterator disposed while a MoveNextAsync is in flight
        // throws NotSupportedException, which would hide the flush's error (and stop the simulator's host).
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var enumerator = items.GetAsyncEnumerator(stopReading.Token);
        var disposable = true;
        try
        {
            while (true)
            {
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted && runLength > 0)
                {
                    try
                    {
                        await FlushAsync().ConfigureAwait(false);
                    }
                    catch
                    {
                        disposable = await AbandonAsync(next, stopReading).ConfigureAwait(false);
                        throw;
                    }
                }
                bool more;
                try
                {
                    more = await next.ConfigureAwait(false);
                }
                catch
                {
                    // The client's stream failed: what it sent before is published, as it would have been one by one.
                    await FlushAsync().ConfigureAwait(false);
                    throw;
                }
                if (!more)
                    break;
                var item = enumerator.Current;
                var length = TShape.LengthOf(item);
                if (length < 0)
                {
                    // A null batch has no readings to reject one by one: it is one rejected item where it would have started.
                    await FlushAsync().ConfigureAwait(false);
                    Rejected(Reject(SensorHubErrors.InvalidArgument, "the batch is null"), sensorId: null, readings: 1, index);
                    index++;
                    continue;
                }
                if (length > _options.MaxPublishBatchSize)
                {
                    // Rejected whole, without a look at its readings, so that the items SignalR buffers behind it wait for no
                    // work that grows with what the client sent. Its readings keep their positions: later indexes still match.
                    await FlushAsync().ConfigureAwait(false);
                    Rejected(
                        Reject(SensorHubErrors.InvalidArgument, $"the batch holds {length} readings; at most {_options.MaxPublishBatchSize} are allowed in one batch", length),
                        sensorId: null, readings: length, index);
                    index += length;
                    continue;
                }
                for (var i = 0; i < length; i++)
                {
                    var reading = TShape.ReadingAt(item, i);
                    ItemRejection? refused;
                    DateTime timestampUtc = default;
                    if (reading is null)
                        refused = Reject(SensorHubErrors.InvalidArgument, "the item is null");
                    else
                        refused = Admit(reading.SensorId, reading.Value, reading.Timestamp, publisher, out timestampUtc);
                    if (refused is { } refusal)
                    {
                        // Rejections are listed in position order: what is pending before this one goes first.
                        await FlushAsync().ConfigureAwait(false);
                        Rejected(refusal, reading?.SensorId, readings: 1, index);
                    }
                    else
                    {
                        if (runLength > 0 && !string.Equals(runSensor, reading!.SensorId, StringComparison.Ordinal))
                            await FlushAsync().ConfigureAwait(false);
                        if (runLength == run.Length)
                        {
                            if (run.Length < _options.MaxPublishBatchSize)
                                Array.Resize(ref run, (int)Math.Min(_options.MaxPublishBatchSize, run.Length * 2L));
                            else
                                await FlushAsync().ConfigureAwait(false);
                        }
                        if (runLength == 0)
                            (runSensor, runStart) = (reading!.SensorId, index);
                        run[runLength++] = new ReadingValue(reading!.Value, timestampUtc);
                    }
                    index++;
                }
            }
            await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            if (disposable)
                await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        FeedsLog.PublishEnded(logger, accepted, rejected);
        return new PublishResult { Accepted = accepted, Rejected = rejected, Rejections = [.. rejections] };

        async ValueTask FlushAsync()
        {
            if (runLength == 0)
                return;
            var (sensorId, start, count) = (runSensor!, runStart, runLength);
            runLength = 0;
            try
            {
                var (refused, published) = await PublishRunAsync(sensorId, run.AsMemory(0, count), publisher, cancellationToken).ConfigureAwait(false);
                accepted += published;
                if (refused is not { } refusal)
                    return;
                Rejected(refusal, sensorId, readings: 1, start + published);
                // Refused runs are rare (a cap, a new sensor's rate): the rest go one by one, exactly as they would have
                // alone (each may spend a new-sensor permit, and be refused for another reason).
                for (var k = published + 1; k < count; k++)
                {
                    if (await PublishAdmittedAsync(sensorId, run[k].Value, run[k].TimestampUtc, publisher, cancellationToken).ConfigureAwait(false) is { } next)
                        Rejected(next, sensorId, readings: 1, start + k);
                    else
                        accepted++;
                }
            }
            catch (SensorHubException e) when (e.Code == SensorHubErrors.BackendUnavailable)
            {
                // Never a silent drop, and never a retry: the device learns how many readings were accepted, and that
                // the last ones sent may or may not have been published (sending them again could publish them twice).
                throw new SensorHubException(
                    e.Code,
                    $"{e.Message} {accepted} readings of this stream were accepted before this; the readings " +
                    $"from position {start} to {start + count - 1} may or may not have been published, and were not sent again.");
            }
        }

        // Counts the readings a rejection covers, and lists it (while the list has room) at its position.
        void Rejected(ItemRejection rejection, string? sensorId, long readings, long at)
        {
            rejected += readings;
            if (rejections.Count < _options.MaxRejectionsReported)
                rejections.Add(new PublishRejection { Index = at, SensorId = Echo(sensorId), Code = rejection.Code, Reason = rejection.Reason });
        }
    }

    /// <summary>
    /// Counts a rejection of <paramref name="readings"/> readings (one item or CSV row; a batch rejected whole counts its
    /// readings) and returns it; also used for a rejection decided before ingest saw the item (a CSV row that does not parse).
    /// </summary>
    public ItemRejection Reject(string code, string reason, long readings = 1)
    {
        refusals.CountRejected(code, readings);
        return new ItemRejection(code, reason);
    }

    /// <summary>What is wrong with one reading, or <see langword="null"/> when it could be published.</summary>
    public string? Check(string? sensorId, double value, DateTime? timestamp) => Check(sensorId, value, timestamp, out _);

    /// <summary>
    /// A sensor id as a rejection may echo it: cut to <see cref="SensorId.MaxLength"/> characters and <c>…</c> when it
    /// is longer (and so invalid anyway), so that a client's huge id never comes back whole.
    /// </summary>
    public static string? Echo(string? sensorId) =>
        sensorId is { Length: > SensorId.MaxLength } ? string.Concat(sensorId.AsSpan(0, SensorId.MaxLength), "…") : sensorId;

    /// <summary>Takes one permit: <see langword="null"/> when taken, else the words that say how long to wait.</summary>
    private static string? Refusal(RateLimiter limiter)
    {
        using var lease = limiter.AttemptAcquire(1);
        if (lease.IsAcquired)
            return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? SensorHubErrors.RetryAfterText(retryAfter) : "retry later.";
    }

    /// <summary>What is wrong with one reading, or <see langword="null"/> with its UTC timestamp when it is fine.</summary>
    private string? Check(string? sensorId, double value, DateTime? timestamp, out DateTime timestampUtc)
    {
        var now = time.GetUtcNow().UtcDateTime;
        timestampUtc = now;
        if (!SensorId.IsValid(sensorId, out var problem))
            return $"sensorId {problem}";
        if (double.IsNaN(value))
            return "value is NaN; a finite number is required";
        if (double.IsInfinity(value))
            return "value is infinite; a finite number is required";
        if (timestamp is { } given)
        {
            // A timestamp without a zone is taken as UTC, the contract's only zone.
            timestampUtc = given.Kind switch
            {
                DateTimeKind.Local => given.ToUniversalTime(),
                DateTimeKind.Unspecified => DateTime.SpecifyKind(given, DateTimeKind.Utc),
                _ => given,
            };
            if (timestampUtc - now > _options.MaxTimestampSkew)
                return $"timestamp {timestampUtc:O} is more than {_options.MaxTimestampSkew} ahead of the server's clock ({now:O})";
        }
        return null;
    }
}

/// <summary>How a client-to-server stream item holds readings, for <see cref="ReadingIngest"/>'s one loop.</summary>
/// <typeparam name="TItem">The stream's item type.</typeparam>
internal interface IStreamItemShape<TItem>
{
    /// <summary>How many readings <paramref name="item"/> holds; -1 for a null batch, which holds none but is rejected.</summary>
    static abstract int LengthOf(TItem item);

    /// <summary>The reading at <paramref name="index"/> (below <see cref="LengthOf"/>); <see langword="null"/> when the client sent null.</summary>
    static abstract ReadingInput? ReadingAt(TItem item, int index);
}

/// <summary>A <c>Publish</c> item: one reading (a null one is a reading that is null, rejected as such).</summary>
internal readonly struct OneReading : IStreamItemShape<ReadingInput?>
{
    public static int LengthOf(ReadingInput? item) => 1;

    public static ReadingInput? ReadingAt(ReadingInput? item, int index) => item;
}

/// <summary>A <c>PublishBatches</c> item: an array of readings, read in place.</summary>
internal readonly struct Batch : IStreamItemShape<ReadingInput?[]?>
{
    public static int LengthOf(ReadingInput?[]? item) => item is null ? -1 : item.Length;

    public static ReadingInput? ReadingAt(ReadingInput?[]? item, int index) => item![index];
}
