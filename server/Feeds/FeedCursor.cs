using System.Diagnostics.CodeAnalysis;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// One subscriber's read position on one sensor, over any engine: replay from history, then live, with no gap and
/// no duplicate at the seam, and with the live part paced when the subscriber asked for a <c>maxRate</c>.
/// Read it like a channel: <c>while (await WaitToReadAsync(ct)) while (TryRead(out var r)) ...</c>. One reader.
/// </summary>
/// <remarks>
/// The live buffer is attached before history is read, so every reading is in one or the other; sequences below
/// <see cref="_next"/> are skipped. The first live reading is checked against history once more ("the seam"): if it
/// is ahead of what was replayed, history fills the span before it, so readings that arrived while the replay was
/// being read are not lost even if the live buffer overflowed. Later jumps are the subscriber's own drops and stay visible.
/// </remarks>
internal sealed class FeedCursor : IDisposable
{
    private readonly IFeedSubscription _subscription;
    private readonly IReadingHistory _history;
    private readonly string _sensorId;
    private readonly int _pageSize;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;

    private IReadOnlyList<Reading> _page = [];
    private int _pageIndex;
    private int _pageEnd;
    private Phase _phase;
    private bool _seam;
    private Reading? _held;
    private long _next;
    private long _nextSlot;
    private bool _slotUsed;

    public FeedCursor(
        IFeedSubscription subscription,
        IReadingHistory history,
        string sensorId,
        long? fromSequence,
        double? maxRate,
        int pageSize,
        TimeProvider time)
    {
        _subscription = subscription;
        _history = history;
        _sensorId = sensorId;
        _pageSize = pageSize;
        _time = time;
        _interval = maxRate is { } rate ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;
        _phase = fromSequence is null ? Phase.Live : Phase.Replay;
        _seam = fromSequence is not null;
        _next = fromSequence ?? 0;
    }

    private enum Phase
    {
        Replay,
        Fill,
        Live,
    }

    private bool Paced => _interval > TimeSpan.Zero;

    public async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_pageIndex < _pageEnd)
                return true;

            switch (_phase)
            {
                case Phase.Replay:
                    await LoadPageAsync(_pageSize, cancellationToken).ConfigureAwait(false);
                    if (_pageEnd == 0)
                        _phase = Phase.Live;
                    break;

                case Phase.Fill:
                    var missing = _held!.Sequence - _next;
                    if (missing > 0)
                        await LoadPageAsync((int)Math.Min(missing, _pageSize), cancellationToken).ConfigureAwait(false);
                    // History gave nothing older than the held reading: the rest of the span is gone, so the
                    // subscriber sees the jump at the held reading.
                    if (missing <= 0 || _pageEnd == 0)
                        _phase = Phase.Live;
                    break;

                case Phase.Live:
                    if (Paced && _slotUsed)
                    {
                        var wait = _time.GetElapsedTime(_time.GetTimestamp(), _nextSlot);
                        if (wait > TimeSpan.Zero)
                            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
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
            return Deliver(reading);
        }

        while (_phase == Phase.Live && !(Paced && _slotUsed))
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

            if (_seam)
            {
                _seam = false;
                if (reading.Sequence > _next)
                {
                    _held = reading;
                    _phase = Phase.Fill;
                    break;
                }
            }

            if (Paced)
            {
                _slotUsed = true;
                _nextSlot = _time.GetTimestamp() + (long)(_interval.TotalSeconds * _time.TimestampFrequency);
            }
            return Deliver(reading);
        }

        reading = null;
        return false;
    }

    public void Dispose() => _subscription.Dispose();

    private bool Deliver(Reading reading)
    {
        _next = reading.Sequence + 1;
        _subscription.CountDelivered(1);
        return true;
    }

    private async ValueTask LoadPageAsync(int maxCount, CancellationToken cancellationToken)
    {
        _page = await _history.ReadAsync(_sensorId, _next, maxCount, cancellationToken).ConfigureAwait(false);
        _pageIndex = 0;
        _pageEnd = _page.Count;
        if (_phase == Phase.Fill)
        {
            // History's pages are consecutive sequences: keep only what comes before the held live reading.
            while (_pageEnd > 0 && _page[_pageEnd - 1].Sequence >= _held!.Sequence)
                _pageEnd--;
        }
    }
}
