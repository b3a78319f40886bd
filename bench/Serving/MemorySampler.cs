using Microsoft.Extensions.Hosting;
namespace SensorHub.Bench.Serving;

/// <summary>
/// The server's peak working set and managed heap since the last reset, sampled every 5 ms: a peak shorter than
/// that can be missed, which is why the figures are called sampled peaks.
/// </summary>
internal sealed class MemorySampler : BackgroundService
{
    private long _peakWorkingSet;
    private long _peakHeap;

    public long PeakWorkingSet => Interlocked.Read(ref _peakWorkingSet);

    public long PeakHeap => Interlocked.Read(ref _peakHeap);

    public void Reset()
    {
        Interlocked.Exchange(ref _peakWorkingSet, Environment.WorkingSet);
        Interlocked.Exchange(ref _peakHeap, GC.GetTotalMemory(forceFullCollection: false));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Reset();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Raise(ref _peakWorkingSet, Environment.WorkingSet);
                Raise(ref _peakHeap, GC.GetTotalMemory(forceFullCollection: false));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void Raise(ref long peak, long value)
    {
        var seen = Interlocked.Read(ref peak);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref peak, value, seen);
            if (previous == seen)
                return;
            seen = previous;
        }
    }
}
