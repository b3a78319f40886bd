using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A fixed-size ring of one sensor's newest readings. Sequences in it are consecutive, so a sequence maps to a slot
/// by arithmetic. Not thread-safe: its <see cref="SensorFeed"/> guards it.
/// </summary>
internal sealed class HistoryRing(int capacity)
{
    private readonly Reading[] _slots = new Reading[capacity];
    private int _start;
    private int _count;

    public void Add(Reading reading)
    {
        if (_count < _slots.Length)
        {
            _slots[(_start + _count) % _slots.Length] = reading;
            _count++;
        }
        else
        {
            _slots[_start] = reading;
            _start = (_start + 1) % _slots.Length;
        }
    }

    public Reading[] Read(long fromSequence, int maxCount)
    {
        if (_count == 0 || maxCount <= 0)
            return [];

        var oldest = _slots[_start].Sequence;
        var skip = fromSequence <= oldest ? 0 : fromSequence - oldest;
        if (skip >= _count)
            return [];

        var page = new Reading[Math.Min(maxCount, _count - (int)skip)];
        for (var i = 0; i < page.Length; i++)
            page[i] = _slots[(_start + (int)skip + i) % _slots.Length];
        return page;
    }
}
