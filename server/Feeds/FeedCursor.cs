using System.Diagnostics.CodeAnalysis;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// One subscriber's read position on one sensor, over any engine: replay from history, then live, with no gap and
/// no duplicate wherever history still holds the readings, and with the live part paced when the subscriber asked
/// for a <c>maxRate</c>. Read it like a channel: <c>while (await WaitToReadAsync(ct)) while (TryRead(out var r)) ...</c>.
/// One reader.
/// </summary>
/// <remarks>
/// <para>
/// The live buffer is attached before history is read, and the engine says which sequence was the newest at that
/// moment (<see cref="IFeedSubscription.AttachedAfter"/>): everything up to it is in history, everything after it is
/// offered to the live buffer. The replay covers history from <c>fromSequence</c> up to that sequence, unpaced; all
/// that is newer is live, and paced under <c>maxRate</c>.
/// </para>
/// <para>
/// The rule for jumps, applied to every live reading, not only the first: when a live reading is past the next
/// expected sequence (the buffer overflowed, during the replay or later), the cursor holds it and fills the span from
/// history first. Only what history no longer holds is a visible jump, and it is counted as dropped. A paced
/// subscriber's buffer keeps only the newest reading on purpose, so its jumps are neither filled nor counted.
/// </para>
/// </remarks>
internal sealed class FeedCursor : IDisposable
{
    private readonly IFeedSubscription _subscription;
    private readonly IReadingHistory _history;
    private readonly string _sensorId;
    private readonly int _pageSize;
    private readonly long _replayEnd;
    private readonly long _intervalTicks;
    private readonly TimeProvider _time;

    private IReadOnlyList<Reading> _page = [];
    private int _pageIndex;
    private int _pageEnd;
    private Phase _phase;
    private Reading? _held;
    private bool _heldFilled;
    private long _next;
    private long _nextSlot;
    private bool _slotUsed;
    private CancellationToken _endOn;
    private CancellationTokenRegistration _endRegistration;

    /// <param name="subscription">The live buffer, attached already; the cursor owns it from now on.</param>
    /// <param name="history">Where replays and fills read from.</param>
    /// <param name="sensorId">The sensor.</param>
    /// <param name="fromSequence">Replay from here (0, or a sequence history no longer holds: from the oldest kept); <see langword="null"/>: live only.</param>
    /// <param name="maxRate">
    /// Live readings per second at most, from <see cref="SubscribeOptions.MaxRateMinimum"/> to
    /// <see cref="SubscribeOptions.MaxRateMaximum"/> (checked by the hub); <see langword="null"/>: unpaced. The
    /// subscription must then have been attached with <see cref="LiveBufferMode.Latest"/>.
    /// </param>
    /// <param name="pageSize">Readings read from history at a time.</param>
    /// <param name="time">The clock pacing follows.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRate"/> is outside its range.</exception>
    public FeedCursor(
        IFeedSubscription subscription,
        IReadingHistory history,
        string sensorId,
        long? fromSequence,
        double? maxRate,
        int pageSize,
        TimeProvider time)
    {
        if (maxRate is { } rate && !(rate >= SubscribeOptions.MaxRateMinimum && rate <= SubscribeOptions.MaxRateMaximum))
            throw new ArgumentOutOfRangeException(nameof(maxRate), rate, "maxRate is outside its range.");
        _subscription = subscription;
        _history = history;
        _sensorId = sensorId;
        _pageSize = pageSize;
        _time = time;
        _intervalTicks = maxRate is { } r ? Math.Max(1, (long)(time.TimestampFrequency / r)) : 0;
        _replayEnd = subscription.AttachedAfter;
        _phase = fromSequence is null ? Phase.Live : Phase.Replay;
        // Live only: the first reading offered to the buffer is the one after the newest at attach.
        _next = fromSequence ?? _replayEnd + 1;
    }

    private enum Phase
    {
        /// <summary>Reading history from <see cref="_next"/> up to <see cref="_replayEnd"/>.</summary>
        Replay,

        /// <summary>Reading history from <see cref="_next"/> up to the held live reading.</summary>
        Fill,

        /// <summary>Reading the live buffer.</summary>
        Live,
    }

    private bool Paced => _intervalTicks > 0;

    /// <summary>
    /// Whether the stream ends because the engine lost its backend: the live buffer failed with
    /// <c>backend_unavailable</c> (the node gave up on Redis), or a history read did. Read once the waits have ended,
    /// before disposing.
    /// </summary>
    public bool Interrupted =>
        _interrupted || (_subscription.Live.Completion.IsFaulted && IsBackendLoss(_subscription.Live.Completion.Exception?.InnerException));

    private bool _interrupted;

    private static bool IsBackendLoss(Exception? error) =>
        error is SensorHubException { Code: SensorHubErrors.BackendUnavailable };

    /// <summary>
    /// Makes cancelling <paramref name="cancellationToken"/> end the cursor: its subscription is disposed at once, so
    /// that a waiting reader sees its live buffer complete and the wait returns <see langword="false"/>; what the buffer
    /// still holds is read out as before (its jumps counted as dropped), then the next wait ends. The cursor's live waits on that token then go without it: a wait on a cancellable
    /// token costs an allocation each time (the channel's waiter and its registration; one per reading at light
    /// load), where this registers once per stream. The caller checks the token once the waits end.
    /// </summary>
    public void EndOn(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
            return;
        _endOn = cancellationToken;
        _endRegistration = cancellationToken.UnsafeRegister(static state => ((IFeedSubscription)state!).Dispose(), _subscription);
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        // The common case, live and unpaced: the live buffer's own wait, without a state machine of the cursor's,
        // which would be allocated each time the subscriber waits for the next reading (once per reading at light
        // load) and held by every idle subscriber (152 bytes, dotnet-gcdump).
        if (_pageIndex < _pageEnd)
            return new ValueTask<bool>(true);
        if (_phase == Phase.Live && !_slotUsed)
        {
            if (_held is not null)
                return new ValueTask<bool>(true);
            return _subscription.Live.WaitToReadAsync(cancellationToken == _endOn ? CancellationToken.None : cancellationToken);
        }
        return WaitToReadSlowAsync(cancellationToken);
    }

    private async ValueTask<bool> WaitToReadSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_pageIndex < _pageEnd)
                return true;

            switch (_phase)
            {
                case Phase.Replay:
                    if (_next > _replayEnd)
                    {
                        _phase = Phase.Live;
                        break;
                    }
                    await LoadPageAsync(_replayEnd + 1, cancellationToken).ConfigureAwait(false);
                    // History holds nothing more up to the attach point: what is left of the replay is gone.
                    if (_pageEnd == 0)
                        _phase = Phase.Live;
                    break;

                case Phase.Fill:
                    var held = _held!.Sequence;
                    if (_next < held)
                        await LoadPageAsync(held, cancellationToken).ConfigureAwait(false);
                    // Either the span is filled, or history holds nothing more of it: the held reading goes next,
                    // and TryRead counts what is still missing before it.
                    if (_next >= held || _pageEnd == 0)
                    {
                        _heldFilled = true;
                        _phase = Phase.Live;
                    }
                    break;

                case Phase.Live:
                    if (_slotUsed)
                    {
                        await WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
                        _slotUsed = false;
                    }
                    if (_held is not null)
                        return true;
                    return await _subscription.Live.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public bool TryRead([MaybeNullWhen(false)] out Reading reading)
    {
        while (_pageIndex < _pageEnd)
        {
            reading = _page[_pageIndex++];
            if (reading.Sequence < _next)
                continue;
            // A page that starts past _next: history no longer holds the span. In a replay that is the documented
            // start at the oldest reading kept; in a fill it is a reading the subscriber lost.
            if (_phase == Phase.Fill)
                CountMissing(reading.Sequence);
            _subscription.CountReplayed(1);
            return Deliver(reading);
        }

        while (_phase == Phase.Live && !_slotUsed)
        {
            if (_held is not null)
            {
                reading = _held;
                _held = null;
            }
            else if (!_subscription.Live.TryRead(out reading))
            {
                break;
            }

            if (reading.Sequence < _next)
                continue;

            if (reading.Sequence > _next && !Paced)
            {
                if (!_heldFilled)
                {
                    // The live buffer jumped: history may still hold the span, so read it before this reading.
                    _held = reading;
                    _phase = Phase.Fill;
                    break;
                }
                CountMissing(reading.Sequence);
            }

            if (Paced)
            {
                _slotUsed = true;
                _nextSlot = _time.GetTimestamp() + _intervalTicks;
            }
            return Deliver(reading);
        }

        reading = null;
        return false;
    }

    public void Dispose()
    {
        _endRegistration.Dispose();
        _subscription.Dispose();
    }

    /// <summary>
    /// Waits for the next paced slot, or less: when the engine completes the live buffer (the server stops), a paced
    /// stream sends its newest reading at once and completes, rather than hold the stop up for as long as 1/maxRate
    /// (1,000 s at the slowest).
    /// </summary>
    private async ValueTask WaitForSlotAsync(CancellationToken cancellationToken)
    {
        var wait = _time.GetElapsedTime(_time.GetTimestamp(), _nextSlot);
        if (wait <= TimeSpan.Zero)
            return;
        var ended = _subscription.Ended;
        if (ended.IsCompleted)
            return;
        await Task.WhenAny(Task.Delay(wait, _time, cancellationToken), ended).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private bool Deliver(Reading reading)
    {
        _next = reading.Sequence + 1;
        _heldFilled = false;
        _subscription.CountDelivered(1);
        return true;
    }

    /// <summary>
    /// Counts as dropped what is missing before <paramref name="sequence"/>, but only what came after the attach:
    /// readings history no longer held at attach were never this subscriber's to drop (the replay starts at the oldest kept).
    /// </summary>
    private void CountMissing(long sequence)
    {
        var from = Math.Max(_next, _replayEnd + 1);
        if (sequence > from)
            _subscription.CountDropped(sequence - from);
    }

    /// <summary>The next page of history from <see cref="_next"/>, cut before <paramref name="endExclusive"/>.</summary>
    private async ValueTask LoadPageAsync(long endExclusive, CancellationToken cancellationToken)
    {
        var maxCount = (int)Math.Min(_pageSize, endExclusive - _next);
        try
        {
            _page = await _history.ReadAsync(_sensorId, _next, maxCount, cancellationToken).ConfigureAwait(false);
        }
        catch (SensorHubException e) when (IsBackendLoss(e))
        {
            _interrupted = true;
            throw;
        }
        _pageIndex = 0;
        _pageEnd = _page.Count;
        // History's pages are consecutive sequences, but may start later than asked (the oldest kept is newer).
        while (_pageEnd > 0 && _page[_pageEnd - 1].Sequence >= endExclusive)
            _pageEnd--;
    }
}
