using System.Diagnostics;

namespace SensorHub.Bench.Serving;

/// <summary>
/// The one publisher of a fan-out run, inside the server. Each reading's value is <see cref="Stopwatch.GetTimestamp"/>
/// at publish, so a client can tell its latency. A rate spreads readings over 1 ms ticks; rate 0 publishes as fast
/// as the server takes them, yielding after every 64 so that it shares the cores as a busy device gateway would.
/// It stops when told to, or by itself after the time it was given. Given several sensors it publishes to each in turn,
/// the rate being over all of them.
/// </summary>
internal sealed class BenchPublisher(IBenchFeed feed)
{
    private readonly Lock _gate = new();
    private (Task<long> Run, CancellationTokenSource Stop)? _running;

    public void Start(PublisherStart request)
    {
        lock (_gate)
        {
            if (_running is not null)
                throw new InvalidOperationException("A publisher is already running; stop it first.");
            var stop = new CancellationTokenSource();
            _running = (Task.Run(() => RunAsync(request, stop.Token), CancellationToken.None), stop);
        }
    }

    public async Task<long> StopAsync()
    {
        (Task<long> Run, CancellationTokenSource Stop)? running;
        lock (_gate)
        {
            running = _running;
            _running = null;
        }
        if (running is not var (run, stop))
            return 0;
        await stop.CancelAsync();
        var published = await run;
        stop.Dispose();
        return published;
    }

    private async Task<long> RunAsync(PublisherStart request, CancellationToken cancellationToken)
    {
        string[] sensors = request.SensorIds is { Length: > 0 } ids ? ids : [request.SensorId];
        long published = 0;
        var clock = Stopwatch.StartNew();
        var stopAfter = TimeSpan.FromSeconds(request.StopAfterSeconds);
        while (!cancellationToken.IsCancellationRequested && clock.Elapsed < stopAfter)
        {
            if (request.RatePerSecond <= 0)
            {
                for (var i = 0; i < 64; i++)
                    await feed.PublishAsync(sensors[(published + i) % sensors.Length], Stopwatch.GetTimestamp(), request.Group);
                published += 64;
                await Task.Yield();
                continue;
            }
            var due = (long)(clock.Elapsed.TotalSeconds * request.RatePerSecond);
            while (published < due)
            {
                await feed.PublishAsync(sensors[published % sensors.Length], Stopwatch.GetTimestamp(), request.Group);
                published++;
            }
            await Task.Delay(1, CancellationToken.None);
        }
        return published;
    }
}
