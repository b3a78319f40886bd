using SensorHub.Contracts;
using SensorHub.Server.Feeds.Internal;

namespace SensorHub.Tests.Feeds;

public sealed class HistoryRingTests
{
    [Fact]
    public void ReadStartsAtTheAskedSequenceAndStopsAtTheNewest()
    {
        var ring = Filled(capacity: 10, first: 100, count: 6);

        Assert.Equal([102L, 103, 104, 105], ring.Read(102, 50).Select(r => r.Sequence));
        Assert.Equal([102L, 103], ring.Read(102, 2).Select(r => r.Sequence));
        Assert.Empty(ring.Read(106, 50));
        Assert.Empty(ring.Read(102, 0));
    }

    [Fact]
    public void ReadOlderThanTheOldestKeptStartsAtTheOldest()
    {
        // 25 readings through a ring of 10: 115 to 124 are kept, wrapped around the end of the array.
        var ring = Filled(capacity: 10, first: 100, count: 25);

        Assert.Equal(Enumerable.Range(115, 10).Select(i => (long)i), ring.Read(0, 50).Select(r => r.Sequence));
        Assert.Equal([115L, 116, 117], ring.Read(101, 3).Select(r => r.Sequence));
        Assert.Equal([122L, 123, 124], ring.Read(122, 50).Select(r => r.Sequence));
    }

    [Fact]
    public void RingGrowsToItsCapacityKeepingOrderAndThenWraps()
    {
        var ring = Filled(capacity: 1_000, first: 1, count: 2_500);

        Assert.Equal(Enumerable.Range(1_501, 1_000).Select(i => (long)i), ring.Read(0, 5_000).Select(r => r.Sequence));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), Filled(capacity: 1_000, first: 1, count: 40).Read(0, 100).Select(r => r.Sequence));
    }

    [Fact]
    public void EmptyRingReadsNothing() => Assert.Empty(new HistoryRing(4).Read(0, 10));

    private static HistoryRing Filled(int capacity, long first, int count)
    {
        var ring = new HistoryRing(capacity);
        for (var i = 0; i < count; i++)
            ring.Add(new Reading { SensorId = "s", Sequence = first + i, Value = i, Timestamp = DateTime.UtcNow });
        return ring;
    }
}
