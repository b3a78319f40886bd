using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SensorHub.Server;
using SensorHub.Server.Feeds;

namespace SensorHub.Bench;

/// <summary>
/// Publishing one reading to N subscribers inside the engine: drained from their live buffers directly, and read
/// through the same generators the hub's <c>Subscribe</c> returns. Allocations are per publish; the target is none
/// per delivered reading (SignalR's serializer is outside this benchmark).
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private ServiceProvider? _services;
    private IFeedEngine _engine = null!;
    private IFeedSubscription[] _subscriptions = [];
    private IAsyncEnumerator<SensorHub.Contracts.Reading>[] _streams = [];

    [Params(1, 100, 1000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Error));
        services.AddOptions<FeedOptions>();
        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddInMemoryFeedEngine();
        services.AddSingleton<FeedStreams>();
        _services = services.BuildServiceProvider();
        _engine = _services.GetRequiredService<IFeedEngine>();
        _engine.RegisterAsync(new SensorDescriptor("bench/engine", "engine", "bench", null), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _subscriptions = Enumerable.Range(0, Subscribers).Select(_ => _engine.SubscribeAsync("bench/engine", LiveBufferMode.Queue, CancellationToken.None).AsTask().GetAwaiter().GetResult()!).ToArray();
        _engine.RegisterAsync(new SensorDescriptor("bench/streams", "streams", "bench", null), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var feeds = _services.GetRequiredService<FeedStreams>();
        _streams = Enumerable.Range(0, Subscribers)
            .Select(_ => feeds.ReadingsAsync("bench/streams", null, CancellationToken.None).GetAsyncEnumerator())
            .ToArray();
        // Each generator takes its first step (opening its subscription, then waiting), and is given one reading.
        var first = _streams.Select(stream => stream.MoveNextAsync().AsTask()).ToArray();
        _engine.PublishAsync("bench/streams", 0, DateTime.UtcNow, SensorRegistration.None, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        Task.WhenAll(first).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var s in _subscriptions)
            s.Dispose();
        foreach (var stream in _streams)
            stream.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _services?.Dispose();
    }

    [Benchmark]
    public async Task<int> PublishOneToAll()
    {
        await _engine.PublishAsync("bench/engine", 1.0, DateTime.UtcNow, SensorRegistration.None, CancellationToken.None);
        var read = 0;
        foreach (var s in _subscriptions)
            while (s.Live.TryRead(out _))
                read++;
        return read;
    }

    /// <summary>
    /// The reading is in every buffer once published, so each generator's next step completes at once: this is the
    /// cost of publish plus N deliveries through <see cref="FeedStreams.ReadingsAsync"/>, without the thread-pool hop
    /// a waiting generator takes.
    /// </summary>
    [Benchmark]
    public async Task<int> PublishOneThroughStreams()
    {
        await _engine.PublishAsync("bench/streams", 1.0, DateTime.UtcNow, SensorRegistration.None, CancellationToken.None);
        var read = 0;
        foreach (var stream in _streams)
        {
            var next = stream.MoveNextAsync();
            if (!next.IsCompletedSuccessfully || !next.Result)
                throw new InvalidOperationException("a generator had no reading ready");
            read++;
        }
        return read;
    }
}
