using SensorHub.Contracts;

namespace SensorHub.Client.Internal;

/// <summary>
/// One subscription's position: the last sequence it delivered. It decides where a resubscription starts, drops what
/// was already delivered and names what can no longer be delivered. Used by one consumer at a time (not thread-safe).
/// </summary>
internal sealed class SequenceTracker(string sensorId, SubscribeOptions? options, Action<SequenceGap> report)
{
    private long _last;
    private long? _expectedAtSeam;
    private bool _serverRestarted;
    private SequenceGap? _unclassified;

    /// <summary>The options of the next <c>Subscribe</c> call: the consumer's at first, from the last delivered plus one after that.</summary>
    /// <remarks>
    /// Also after a server restart: the contract keeps a restarted server's sequences above all it issued before, so
    /// the last delivered plus one replays what the new server has, without waiting.
    /// </remarks>
    public SubscribeOptions? NextOptions()
    {
        if (_last > 0 && options?.MaxRate is not null)
        {
            // A paced subscription's readings are samples: it resumes live, since a replay of what it skipped would
            // arrive unpaced, and its jumps are on purpose, so there is no seam to check.
            _expectedAtSeam = null;
            return options with { FromSequence = null };
        }
        if (_last > 0)
        {
            _expectedAtSeam = _last + 1;
            return new SubscribeOptions { FromSequence = _last + 1, MaxRate = options?.MaxRate };
        }
        // fromSequence 0 means "whatever history holds": no particular reading is expected first.
        _expectedAtSeam = options?.FromSequence is >= 1 and var from ? from : null;
        return options;
    }

    /// <summary>
    /// The server said that it stopped (it ended the stream) or that it does not know the sensor: a jump at the next
    /// seam is between two numberings, not readings that history lost.
    /// </summary>
    public void ServerMayHaveRestarted() => _serverRestarted = true;

    /// <summary>
    /// A jump at a seam that nothing said was a restart, noted by <see cref="Accept"/> for its caller to classify
    /// (a crashed server says nothing: only its <c>SensorInfo.firstSequence</c> tells) and report before the reading.
    /// </summary>
    public SequenceGap? TakeUnclassifiedGap()
    {
        var gap = _unclassified;
        _unclassified = null;
        return gap;
    }

    /// <summary>Whether to deliver <paramref name="reading"/>; reports a gap before it where there is one.</summary>
    public bool Accept(Reading reading)
    {
        if (_last > 0 && reading.Sequence <= _last)
            return false;
        if (_expectedAtSeam is { } seam)
        {
            _expectedAtSeam = null;
            if (reading.Sequence < seam)
                return false;
            if (reading.Sequence > seam && _serverRestarted)
                report(new SequenceGap(sensorId, seam, reading.Sequence - 1, SequenceGapCause.ServerRestart));
            else if (reading.Sequence > seam)
                _unclassified = new SequenceGap(sensorId, seam, reading.Sequence - 1, SequenceGapCause.HistoryExpired);
        }
        else if (_last > 0 && reading.Sequence > _last + 1 && options?.MaxRate is null)
        {
            report(new SequenceGap(sensorId, _last + 1, reading.Sequence - 1, SequenceGapCause.Dropped));
        }
        _serverRestarted = false;
        _last = reading.Sequence;
        return true;
    }
}
