using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A ring of one sensor's newest readings, up to a capacity. Sequences in it are consecutive, so a sequence maps to a
/// slot by arithmetic. It starts small and doubles as readings arrive, so that a sensor published to once costs a few
/// slots, not the whole capacity. Not thread-safe: its <see cref="SensorFeed"/> guards it.
/// </summary>
internal sealed class HistoryRing(int capacity)
{
    private const int InitialSlots = 16;
    private Reading[] _slots = new Reading[Math.Min(capacity, InitialSlots)];
    private int _start;
    private int _count;

    public void Add(Reading reading)
    {
        if (_count == _slots.Length && _slots.Length < capacity)
            Grow();
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

    private void Grow()
    {
        var grown = new Reading[(int)Math.Min(capacity, _slots.Length * 2L)];
        for (var i = 0; i < _count; i++)
            grown[i] = _slots[(_start + i) % _slots.Length];
        _slots = grown;
        _start = 0;
    }
}
