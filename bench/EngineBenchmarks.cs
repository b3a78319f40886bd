using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SensorHub.Server;
using SensorHub.Server.Feeds;

namespace SensorHub.Bench;

/// <summary>Publishing one reading to N in-engine subscribers (and draining their channels), through the public <see cref="IFeedEngine"/>.</summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private ServiceProvider? _services;
    private IFeedEngine _engine = null!;
    private IFeedSubscription[] _subscriptions = [];

    [Params(1, 100, 1000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Error));
        services.AddOptions<FeedOptions>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IHostApplicationLifetime, NoLifetime>();
        services.AddInMemoryFeedEngine();
        _services = services.BuildServiceProvider();
        _engine = _services.GetRequiredService<IFeedEngine>();
        _engine.RegisterAsync(new SensorDescriptor("bench/engine", "engine", "bench", null), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _subscriptions = Enumerable.Range(0, Subscribers).Select(_ => _engine.Subscribe("bench/engine", LiveBufferMode.Queue)!).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var s in _subscriptions)
            s.Dispose();
        _services?.Dispose();
    }

    [Benchmark]
    public async Task<int> PublishOneToAll()
    {
        await _engine.PublishAsync("bench/engine", 1.0, DateTime.UtcNow, CancellationToken.None);
        var read = 0;
        foreach (var s in _subscriptions)
            while (s.Live.TryRead(out _))
                read++;
        return read;
    }

    /// <summary>The engine watches the host's stopping token; outside a host nothing ever stops.</summary>
    private sealed class NoLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }
}
