using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;
using SensorHub.Server.Hubs;
using SensorHub.Server.Stats;

namespace SensorHub.Bench;

/// <summary>
/// The light-load case the engine benchmarks leave out: N subscribers each <em>waiting</em> for the next reading when
/// one is published, read through the exact chain SignalR enumerates for <c>Subscribe</c> (the error-mapping and
/// leased wrappers around the generator) with a cancellable token each, as SignalR passes. Allocated is per publish;
/// the target is that it does not grow with N (no allocation per delivered reading). The thread-pool hop each
/// waiting subscriber takes is part of the time.
/// </summary>
[MemoryDiagnoser]
public class StreamBenchmarks
{
    private const string Sensor = "bench/waiting";
    private ServiceProvider? _services;
    private IFeedEngine _engine = null!;
    private IAsyncEnumerator<Reading>[] _streams = [];
    private CancellationTokenSource[] _cancels = [];
    private ValueTask<bool>[] _steps = [];

    [Params(1, 100, 1000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Error));
        services.AddMetrics();
        services.AddOptions<FeedOptions>();
        services.AddSingleton(TimeProvider.System);
        services.AddInMemoryFeedEngine();
        services.AddSingleton<FeedStreams>();
        services.AddSingleton<Refusals>();
        services.AddSingleton<HubActivity>();
        _services = services.BuildServiceProvider();
        _engine = _services.GetRequiredService<IFeedEngine>();
        _engine.RegisterAsync(new SensorDescriptor(Sensor, "waiting", "bench", null), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var feeds = _services.GetRequiredService<FeedStreams>();
        var activity = _services.GetRequiredService<HubActivity>();
        var errors = new ErrorContext(_services.GetRequiredService<Refusals>(), NullLogger.Instance, null!, SensorHubMethods.Subscribe);
        var slots = new SlotCounter();
        _cancels = Enumerable.Range(0, Subscribers).Select(_ => new CancellationTokenSource()).ToArray();
        _streams = _cancels
            .Select(cancel => new ErrorMappingStream<Reading>(
                    new LeasedStream<Reading>(feeds.ReadingsAsync(Sensor, null, cancel.Token), new StreamLease(slots, activity, SensorHubMethods.Subscribe)), errors)
                .GetAsyncEnumerator(cancel.Token))
            .ToArray();
        _steps = new ValueTask<bool>[Subscribers];
        // Each generator takes its first step (opening its subscription), is given one reading, and then waits.
        PublishAndReadAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var cancel in _cancels)
            cancel.Cancel();
        foreach (var stream in _streams)
        {
            try
            {
                stream.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
        }
        _services?.Dispose();
    }

    /// <summary>Every subscriber waits; one reading is published; each wakes, takes it, and waits again.</summary>
    [Benchmark]
    public Task<int> PublishOneToWaitingStreams() => PublishAndReadAsync();

    private async Task<int> PublishAndReadAsync()
    {
        // Stored to be awaited once each below, after the publish: the point is that every subscriber waits first.
#pragma warning disable CA2012
        for (var i = 0; i < _streams.Length; i++)
            _steps[i] = _streams[i].MoveNextAsync();
#pragma warning restore CA2012
        await _engine.PublishAsync(Sensor, 1.0, DateTime.UtcNow, SensorRegistration.None, CancellationToken.None);
        var read = 0;
        for (var i = 0; i < _steps.Length; i++)
        {
            if (await _steps[i])
                read++;
        }
        return read;
    }
}
