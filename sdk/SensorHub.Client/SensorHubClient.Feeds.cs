using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Client;

public sealed partial class SensorHubClient
{
    /// <summary>
    /// The readings of one sensor, in sequence order, each once, across dropped connections: after a drop the client
    /// reconnects, resubscribes from the last sequence it delivered plus one and leaves out what it already delivered.
    /// Readings that can no longer be delivered (history no longer holds them, or the server dropped them for a slow
    /// consumer) are reported through <see cref="GapDetected"/> before the reading after them.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Leaving the <c>await foreach</c> (<c>break</c>, an exception) or cancelling <paramref name="cancellationToken"/>
    /// ends the server's stream at once. A live subscription (no <c>fromSequence</c>) that has delivered nothing yet
    /// resumes live after a drop: having no position, it cannot know what it missed.
    /// </para>
    /// <para>
    /// Across a server restart it resumes too: the server ends the stream when it stops, and until the sensor's device
    /// has published to the new server, resubscribing is answered with <c>unknown_sensor</c>, which a resuming
    /// subscription waits out for <see cref="SensorHubClientOptions.UnknownSensorPatience"/> (30 s by default). The jump
    /// in sequence that follows is reported as a <see cref="SequenceGapCause.ServerRestart"/> gap, without a count.
    /// </para>
    /// </remarks>
    /// <param name="sensorId">The sensor.</param>
    /// <param name="options">Where to start (<c>fromSequence</c>) and how fast (<c>maxRate</c>); <see langword="null"/> for live, unpaced.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <exception cref="SensorHubServerException">
    /// The server refused: at once on the first attempt (<c>unknown_sensor</c> for a sensor no one has published to,
    /// <c>not_allowed</c>, <c>invalid_argument</c>, <c>too_many_streams</c>), or while resuming once
    /// <c>unknown_sensor</c> has outlasted its patience; or the server failed unexpectedly
    /// (<see cref="SensorHubServerException.ErrorCode"/> <see langword="null"/>). Thrown by the enumeration. Never
    /// <c>backend_unavailable</c>: that is resumed like a drop, on the next server where there are several.
    /// </exception>
    public IAsyncEnumerable<Reading> SubscribeAsync(string sensorId, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeAsync(sensorId, options, onGap: null, cancellationToken);

    /// <summary>
    /// <see cref="SubscribeAsync(string, SubscribeOptions?, CancellationToken)"/>, with <paramref name="onGap"/> called for
    /// this subscription's gaps (before <see cref="GapDetected"/>).
    /// </summary>
    /// <param name="sensorId">The sensor.</param>
    /// <param name="options">Where to start and how fast; <see langword="null"/> for live, unpaced.</param>
    /// <param name="onGap">Called on the consumer's thread with each span that will never be delivered.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    public IAsyncEnumerable<Reading> SubscribeAsync(
        string sensorId, SubscribeOptions? options, Action<SequenceGap>? onGap, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sensorId);
        return SubscribeCoreAsync(sensorId, options, onGap, cancellationToken);
    }

    /// <summary>
    /// The same feed as <see cref="SubscribeAsync(string, SubscribeOptions?, CancellationToken)"/>, in batches: each holds
    /// the readings ready at one moment, with the same guarantees (in order, each once, gaps reported, resumed after a drop).
    /// </summary>
    /// <param name="sensorId">The sensor.</param>
    /// <param name="options">Where to start and how fast; <see langword="null"/> for live, unpaced.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    public IAsyncEnumerable<Reading[]> SubscribeBatchesAsync(string sensorId, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeBatchesAsync(sensorId, options, onGap: null, cancellationToken);

    /// <summary>
    /// <see cref="SubscribeBatchesAsync(string, SubscribeOptions?, CancellationToken)"/>, with <paramref name="onGap"/>
    /// called for this subscription's gaps.
    /// </summary>
    /// <param name="sensorId">The sensor.</param>
    /// <param name="options">Where to start and how fast; <see langword="null"/> for live, unpaced.</param>
    /// <param name="onGap">Called on the consumer's thread with each span that will never be delivered.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    public IAsyncEnumerable<Reading[]> SubscribeBatchesAsync(
        string sensorId, SubscribeOptions? options, Action<SequenceGap>? onGap, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sensorId);
        return SubscribeBatchesCoreAsync(sensorId, options, onGap, cancellationToken);
    }

    /// <summary>
    /// Publishes a stream of readings (a device's or gateway's) and returns what the server accepted and rejected once the
    /// stream ends. Not resumed after a dropped connection: the server keeps what it received, and the call fails.
    /// </summary>
    /// <param name="readings">The readings; each is sent as it is produced.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SensorHubServerException">The server refused the stream (<c>not_allowed</c>, <c>too_many_streams</c>) or failed.</exception>
    public Task<PublishResult> PublishAsync(IAsyncEnumerable<ReadingInput> readings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readings);
        return PublishCoreAsync(SensorHubMethods.Publish, readings, cancellationToken);
    }

    /// <summary>
    /// <see cref="PublishAsync"/> with several readings in each message, for a gateway that has many at a time: one
    /// message per batch instead of one per reading. Each reading is checked and rejected alone as there; a rejection's
    /// <see cref="PublishRejection.Index"/> is the reading's position over the whole stream (the readings of earlier
    /// batches counted). A batch over the server's <c>MaxPublishBatchSize</c> (1,000 by default) is rejected whole.
    /// Not resumed after a dropped connection either.
    /// </summary>
    /// <param name="batches">The batches; each is sent as one message as it is produced (an empty one is allowed).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SensorHubServerException">The server refused the stream (<c>not_allowed</c>, <c>too_many_streams</c>) or failed.</exception>
    public Task<PublishResult> PublishBatchesAsync(IAsyncEnumerable<ReadingInput[]> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        return PublishCoreAsync(SensorHubMethods.PublishBatches, batches, cancellationToken);
    }

    /// <summary>
    /// Every known sensor the caller may read, with its newest reading, ordered by id: the pages of
    /// <see cref="ListSensorsPageAsync"/>, <see cref="SensorQuery.MaxLimit"/> sensors at a time, one after the other.
    /// A sensor registered or removed while the pages are read may be left out or still shown.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SensorHubServerException">The server refused (see its <see cref="SensorHubServerException.ErrorCode"/>) or failed.</exception>
    public Task<IReadOnlyList<SensorInfo>> ListSensorsAsync(CancellationToken cancellationToken = default) =>
        ListSensorsAsync(prefix: "", cancellationToken);

    /// <summary>Every known sensor the caller may read whose id starts with <paramref name="prefix"/>, as <see cref="ListSensorsAsync(CancellationToken)"/>.</summary>
    /// <param name="prefix">A plain string prefix such as <c>plant-1/</c>; empty for every sensor.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SensorHubServerException">The server refused (<c>invalid_argument</c> for a malformed prefix) or failed.</exception>
    public async Task<IReadOnlyList<SensorInfo>> ListSensorsAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var sensors = new List<SensorInfo>();
        string? after = null;
        do
        {
            var page = await ListSensorsPageAsync(
                new SensorQuery { Prefix = prefix, After = after, Limit = SensorQuery.MaxLimit }, cancellationToken).ConfigureAwait(false);
            sensors.AddRange(page.Sensors);
            // A server that names no next page, or no sensor to go on from, has said all it will.
            after = page.Sensors.Length > 0 ? page.Next : null;
        }
        while (after is not null);
        return sensors;
    }

    /// <summary>One page of the sensors the caller may read: those <paramref name="query"/> selects, ordered by id.</summary>
    /// <param name="query">Prefix, position (<see cref="SensorPage.Next"/> of the page before) and size; <see langword="null"/> for the first <see cref="SensorQuery.DefaultLimit"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SensorHubServerException">The server refused (<c>invalid_argument</c> for a field out of range) or failed.</exception>
    public async Task<SensorPage> ListSensorsPageAsync(SensorQuery? query, CancellationToken cancellationToken = default) =>
        await InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, [query], idempotent: true, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Both publish methods: one call with the stream as its argument, never retried (a retry would publish again what
    /// the server already kept), so a dropped connection fails it.
    /// </summary>
    private Task<PublishResult> PublishCoreAsync(string method, object stream, CancellationToken cancellationToken) =>
        InvokeAsync<PublishResult>(method, [stream], idempotent: false, cancellationToken);

    private async IAsyncEnumerable<Reading> SubscribeCoreAsync(
        string sensorId, SubscribeOptions? options, Action<SequenceGap>? onGap, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tracker = new SequenceTracker(sensorId, options, gap => ReportGap(gap, onGap));
        using var leave = Leave(cancellationToken);
        await foreach (var reading in _resumable.RunAsync(Subscription<Reading>(SensorHubMethods.Subscribe, sensorId, tracker), leave.Token).ConfigureAwait(false))
        {
            if (!tracker.Accept(reading))
                continue;
            await ReportUnclassifiedGapAsync(tracker, onGap, leave.Token).ConfigureAwait(false);
            yield return reading;
        }
    }

    private async IAsyncEnumerable<Reading[]> SubscribeBatchesCoreAsync(
        string sensorId, SubscribeOptions? options, Action<SequenceGap>? onGap, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tracker = new SequenceTracker(sensorId, options, gap => ReportGap(gap, onGap));
        using var leave = Leave(cancellationToken);
        await foreach (var batch in _resumable.RunAsync(Subscription<Reading[]>(SensorHubMethods.SubscribeBatches, sensorId, tracker), leave.Token).ConfigureAwait(false))
        {
            if (Array.FindAll(batch, tracker.Accept) is not { Length: > 0 } kept)
                continue;
            await ReportUnclassifiedGapAsync(tracker, onGap, leave.Token).ConfigureAwait(false);
            yield return kept;
        }
    }

    /// <summary>
    /// Reports a jump at a seam that nothing said was a restart. It asks the server where the sensor's numbering starts:
    /// a gap that begins below <see cref="SensorInfo.FirstSequence"/> spans two numberings (the server restarted without
    /// ending its streams, a crash), so it is a <see cref="SequenceGapCause.ServerRestart"/> of unknown size; otherwise
    /// history lost it and <see cref="SequenceGap.Count"/> is exact. Only a seam jump costs this call; where the call
    /// fails, the gap is reported as <see cref="SequenceGapCause.HistoryExpired"/>.
    /// </summary>
    private ValueTask ReportUnclassifiedGapAsync(SequenceTracker tracker, Action<SequenceGap>? onGap, CancellationToken cancellationToken) =>
        tracker.TakeUnclassifiedGap() is { } gap ? ClassifyAndReportGapAsync(gap, onGap, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Reports <paramref name="gap"/>, a seam jump, as a restart or as history lost: see <see cref="ReportUnclassifiedGapAsync"/>.</summary>
    private async ValueTask ClassifyAndReportGapAsync(SequenceGap gap, Action<SequenceGap>? onGap, CancellationToken cancellationToken)
    {
        try
        {
            // The sensor's own id is the first id that starts with it: a page of one holds it, or it is unknown.
            var page = await ListSensorsPageAsync(new SensorQuery { Prefix = gap.SensorId, Limit = 1 }, cancellationToken).ConfigureAwait(false);
            var sensor = page.Sensors.FirstOrDefault(s => string.Equals(s.Id, gap.SensorId, StringComparison.Ordinal));
            if (sensor is not null && sensor.FirstSequence > gap.FromSequence)
                gap = gap with { Cause = SequenceGapCause.ServerRestart };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ClientLog.GapNotClassified(_logger, gap.SensorId, ex);
        }
        ReportGap(gap, onGap);
    }

    /// <summary>
    /// One of the two subscription methods as a resumable operation: each attempt subscribes from where the tracker
    /// stands; a server that ended the stream or does not know the sensor any more marks the next seam as a restart;
    /// <c>unknown_sensor</c> while resuming is waited out for <see cref="SensorHubClientOptions.UnknownSensorPatience"/>.
    /// </summary>
    private ResumeSpec<TItem> Subscription<TItem>(string method, string sensorId, SequenceTracker tracker) => new()
    {
        Method = method,
        Target = sensorId,
        BeforeAttempt = (reason, _) =>
        {
            if (reason is { Cause: Interruption.EndedByServer } or { Code: SensorHubErrors.UnknownSensor })
                tracker.ServerMayHaveRestarted();
            return ValueTask.CompletedTask;
        },
        Open = token => _hub.StreamAsync<TItem>(method, sensorId, tracker.NextOptions(), token),
        PatienceFor = code => code == SensorHubErrors.UnknownSensor ? _unknownSensorPatience : null,
    };
}
