using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Client;

public sealed partial class SensorHubClient
{
    /// <summary>
    /// The readings of every sensor whose id matches <paramref name="pattern"/>, sensors that appear later included, in
    /// batches of what the server had ready (each reading names its sensor in <see cref="Reading.SensorId"/>): per
    /// sensor in sequence order, each once, across dropped connections. After a drop the client reconnects and
    /// subscribes again with each sensor's last delivered sequence plus one; readings that can no longer be delivered
    /// are reported per sensor through <see cref="GapDetected"/> before the batch that holds the reading after them.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <paramref name="pattern"/> is MQTT's topic-filter syntax over the <c>/</c> levels of sensor ids
    /// (<see cref="SensorPattern"/>): <c>+</c> matches exactly one level, <c>#</c> (last only) a level and everything
    /// below it; <c>plant-1/+/temperature</c>, <c>plant-1/#</c>, <c>#</c>. A pattern without wildcards matches one
    /// sensor. A pattern that matches no sensor yet is not an error: sensors that appear later join the stream from
    /// their first reading. The server leaves out sensors the caller's token may not read.
    /// </para>
    /// <para>
    /// Batches are the server's: each holds up to the server's <c>MaxBatchSize</c> (500 by default) readings of any
    /// matching sensors; readings of different sensors are in no particular order to each other. Under a slow consumer
    /// the server's one buffer for the stream (<c>SubscribeManyBufferCapacity</c>, 10,000 readings by default, whatever
    /// the number of sensors) drops its oldest readings: each sensor whose readings were dropped shows a jump, reported
    /// as a <see cref="SequenceGapCause.Dropped"/> gap of that sensor with an exact count. With <c>maxRate</c> the
    /// jumps are on purpose and not reported.
    /// </para>
    /// <para>
    /// Resuming: an unpaced stream lists the matching sensors (<see cref="ListSensorsPageAsync"/>, by the pattern's
    /// literal prefix) before each attempt, so that after a drop a sensor that had delivered nothing yet resumes from
    /// where it stood when the stream began, and a sensor that appeared while the client was away arrives from its
    /// first reading kept. A paced stream (<c>maxRate</c>) lists nothing and resumes every sensor that has delivered
    /// live, as a paced <see cref="SubscribeAsync(string, SubscribeOptions?, CancellationToken)"/> does. Across a server
    /// restart (the server ends the stream when it stops) the jump in each sensor's sequence is reported as a
    /// <see cref="SequenceGapCause.ServerRestart"/> gap without a count. <c>backend_unavailable</c> is resumed like a
    /// drop, on the next server where there are several.
    /// </para>
    /// <para>
    /// Bounds: the client keeps one position for each of at most <see cref="SubscribeManyOptions.MaxFromSequences"/>
    /// (10,000) sensors, so each resume's <c>fromSequences</c> fits the contract. Past that, the sensors that delivered
    /// least recently are forgotten (logged, event 9015); until a listing of the matching sensors fits again, a sensor
    /// the client does not know resumes live, and what it published while the client was away is neither delivered nor
    /// reported.
    /// </para>
    /// <para>Leaving the <c>await foreach</c> or cancelling <paramref name="cancellationToken"/> ends the server's stream at once.</para>
    /// </remarks>
    /// <param name="pattern">The sensors, such as <c>plant-1/+/temperature</c> or <c>plant-1/#</c>: 1 to <see cref="SensorPattern.MaxLength"/> characters.</param>
    /// <param name="options">
    /// <c>maxRate</c>, readings per second per sensor (each sensor paced on its own, the newest at its moment), and
    /// <c>fromSequences</c>, sensors to start from a sequence (replay, then live; at most
    /// <see cref="SubscribeManyOptions.MaxFromSequences"/> entries, each 0 or more; ids the pattern does not match are
    /// ignored). <see langword="null"/>: every sensor live, unpaced.
    /// </param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <exception cref="ArgumentException">
    /// Thrown at the call, before anything is sent: <paramref name="pattern"/> is malformed (the message names the
    /// problem: a <c>#</c> that is not the last level, a wildcard inside a level such as <c>line+</c>, a leading
    /// <c>/</c>, a character sensor ids cannot hold, over <see cref="SensorPattern.MaxLength"/> characters), or
    /// <c>fromSequences</c> has more than <see cref="SubscribeManyOptions.MaxFromSequences"/> entries or a negative sequence.
    /// </exception>
    /// <exception cref="SensorHubServerException">
    /// The server refused, on the first attempt or while resuming (<c>not_allowed</c>, <c>invalid_argument</c> such as
    /// a <c>maxRate</c> out of range, <c>too_many_streams</c>: the stream counts as one against the connection's cap), or
    /// failed unexpectedly (<see cref="SensorHubServerException.ErrorCode"/> <see langword="null"/>). Thrown by the
    /// enumeration. Never <c>backend_unavailable</c>.
    /// </exception>
    public IAsyncEnumerable<Reading[]> SubscribeManyAsync(string pattern, SubscribeManyOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeManyAsync(pattern, options, onGap: null, cancellationToken);

    /// <summary>
    /// <see cref="SubscribeManyAsync(string, SubscribeManyOptions?, CancellationToken)"/>, with <paramref name="onGap"/>
    /// called for this subscription's gaps (before <see cref="GapDetected"/>), each naming its sensor.
    /// </summary>
    /// <param name="pattern">The sensors, such as <c>plant-1/+/temperature</c> or <c>plant-1/#</c>.</param>
    /// <param name="options">How fast, and which sensors to start from a sequence; <see langword="null"/> for live, unpaced.</param>
    /// <param name="onGap">Called on the consumer's thread with each span of one sensor that will never be delivered.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <exception cref="ArgumentException">The pattern or the options are malformed (see the other overload); thrown at the call.</exception>
    public IAsyncEnumerable<Reading[]> SubscribeManyAsync(
        string pattern, SubscribeManyOptions? options, Action<SequenceGap>? onGap, CancellationToken cancellationToken = default)
    {
        // Checked here, not in the iterator, so that a malformed call fails where it is made and sends nothing.
        if (!SensorPattern.TryParse(pattern, out var parsed, out var problem))
            throw new ArgumentException($"Pattern '{pattern}' {problem}.", nameof(pattern));
        if (options?.FromSequences is { } from)
        {
            if (from.Count > SubscribeManyOptions.MaxFromSequences)
            {
                throw new ArgumentException(
                    $"options.FromSequences has {from.Count} entries; at most {SubscribeManyOptions.MaxFromSequences} are allowed.", nameof(options));
            }
            foreach (var (sensorId, sequence) in from)
            {
                if (sequence < 0)
                    throw new ArgumentException($"options.FromSequences['{sensorId}'] is {sequence}; sequences are 0 or more.", nameof(options));
            }
        }
        return SubscribeManyCoreAsync(parsed, options, onGap, cancellationToken);
    }

    private async IAsyncEnumerable<Reading[]> SubscribeManyCoreAsync(
        SensorPattern pattern, SubscribeManyOptions? options, Action<SequenceGap>? onGap, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var positions = new ManySequenceTracker(pattern, options, gap => ReportGap(gap, onGap), _logger);
        using var leave = Leave(cancellationToken);
        List<SequenceGap>? unclassified = null;
        await foreach (var batch in _resumable.RunAsync(ManySubscription(pattern, positions), leave.Token).ConfigureAwait(false))
        {
            var kept = new List<Reading>(batch.Length);
            foreach (var reading in batch)
            {
                if (!positions.Accept(reading, out var gap))
                    continue;
                kept.Add(reading);
                if (gap is not null)
                    (unclassified ??= []).Add(gap);
            }
            if (unclassified is { Count: > 0 })
            {
                // Seam jumps nothing said were restarts: each is classified before the batch that holds the reading after it.
                foreach (var gap in unclassified)
                    await ClassifyAndReportGapAsync(gap, onGap, leave.Token).ConfigureAwait(false);
                unclassified.Clear();
            }
            if (kept.Count > 0)
                yield return kept.Count == batch.Length ? batch : [.. kept];
        }
    }

    /// <summary>
    /// <c>SubscribeMany</c> as a resumable operation: before each attempt an unpaced stream lists the matching sensors
    /// (see <see cref="ManySequenceTracker"/>), and each attempt subscribes with every sensor's next position; a server
    /// that ended the stream marks every sensor's next seam as a restart.
    /// </summary>
    private ResumeSpec<Reading[]> ManySubscription(SensorPattern pattern, ManySequenceTracker positions) => new()
    {
        Method = SensorHubMethods.SubscribeMany,
        Target = pattern.Text,
        BeforeAttempt = async (reason, cancellationToken) =>
        {
            if (reason is { Cause: Interruption.EndedByServer })
                positions.ServerMayHaveRestarted();
            if (positions.WantsListing)
                await ListMatchingSensorsAsync(pattern, positions, cancellationToken).ConfigureAwait(false);
        },
        Open = token =>
        {
            var next = positions.NextOptions();
            ClientLog.ManyAttempt(_logger, pattern.Text, next?.FromSequences?.Count ?? 0, positions.Count);
            return _hub.StreamAsync<Reading[]>(SensorHubMethods.SubscribeMany, pattern.Text, next, token);
        },
    };

    /// <summary>
    /// Hands every sensor the caller may read whose id matches <paramref name="pattern"/> to <paramref name="positions"/>,
    /// page by page from the pattern's literal prefix. A refusal leaves the listing incomplete rather than end the
    /// subscription: the attempt goes on, and only sensors the client does not know yet lose their resume position.
    /// </summary>
    private async ValueTask ListMatchingSensorsAsync(SensorPattern pattern, ManySequenceTracker positions, CancellationToken cancellationToken)
    {
        positions.BeginListing();
        var complete = false;
        try
        {
            string? after = null;
            while (true)
            {
                var page = await ListSensorsPageAsync(
                    new SensorQuery { Prefix = pattern.Prefix, After = after, Limit = SensorQuery.MaxLimit }, cancellationToken).ConfigureAwait(false);
                var goOn = true;
                foreach (var sensor in page.Sensors)
                {
                    if (!(goOn = positions.Listed(sensor)))
                        break;
                }
                if (!goOn)
                    break;
                // A server that names no next page, or no sensor to go on from, has said all it will.
                after = page.Sensors.Length > 0 ? page.Next : null;
                if (after is null)
                {
                    complete = true;
                    break;
                }
            }
        }
        catch (SensorHubServerException ex)
        {
            ClientLog.ManyListingFailed(_logger, pattern.Text, ex);
        }
        positions.EndListing(complete);
    }
}
