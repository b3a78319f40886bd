using System.Numerics;
using System.Runtime.InteropServices;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A count that many threads add to on a hot path without sharing a cache line: each adds to the cell of the core it
/// runs on, and <see cref="Sum"/> adds the cells up (as many as cores, whatever the number of readers or sensors).
/// </summary>
/// <remarks>
/// A thread may move to another core between reading its processor id and adding, so two threads can meet on one
/// cell: the add is interlocked, which on a cell its own core owns costs about as much as a plain add. A sum taken
/// while others add sees each add whole or not at all.
/// </remarks>
internal sealed class StripedCounter
{
    private readonly Cell[] _cells;
    private readonly int _mask;

    public StripedCounter()
    {
        var cells = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount, 1, 64));
        _cells = new Cell[cells];
        _mask = cells - 1;
    }

    public void Add(long value) => Interlocked.Add(ref _cells[Thread.GetCurrentProcessorId() & _mask].Value, value);

    public long Sum()
    {
        long sum = 0;
        for (var i = 0; i < _cells.Length; i++)
            sum += Volatile.Read(ref _cells[i].Value);
        return sum;
    }

    /// <summary>One count alone on its cache line (and its neighbour, which the hardware prefetches in pairs).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Cell
    {
        [FieldOffset(64)]
        public long Value;
    }
}
