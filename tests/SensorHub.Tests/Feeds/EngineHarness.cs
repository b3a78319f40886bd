using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Stats;

namespace SensorHub.Tests.Feeds;

/// <summary>The in-memory engine, its history and the ingest in front of it, without a host, for tests of the feed logic itself.</summary>
internal sealed class EngineHarness : IDisposable
{
    private readonly ShutdownSignal _shutdown = new();
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public EngineHarness(FeedOptions? options = null, TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        Options = Microsoft.Extensions.Options.Options.Create(options ?? new FeedOptions());
        Registry = new SensorFeedRegistry(Options, Time);
        Engine = new InMemoryFeedEngine(Registry, Options, _shutdown, NullLogger<InMemoryFeedEngine>.Instance);
        History = new InMemoryReadingHistory(Registry);
        Refusals = new Refusals(_metrics.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        Ingest = new ReadingIngest(Engine, Options, Refusals, Time, NullLogger<ReadingIngest>.Instance);
    }

    public TimeProvider Time { get; }

    public IOptions<FeedOptions> Options { get; }

    public SensorFeedRegistry Registry { get; }

    public InMemoryFeedEngine Engine { get; }

    public InMemoryReadingHistory History { get; }

    /// <summary>The refusals the ingest counted.</summary>
    public Refusals Refusals { get; }

    public ReadingIngest Ingest { get; }

    public FeedCursor Open(string sensorId, long? fromSequence = null, double? maxRate = null, IReadingHistory? history = null)
    {
        var subscription = Engine.Subscribe(sensorId, maxRate is null ? LiveBufferMode.Queue : LiveBufferMode.Latest)
            ?? throw new InvalidOperationException($"Unknown sensor {sensorId}.");
        return new FeedCursor(subscription, history ?? History, sensorId, fromSequence, maxRate, Options.Value.ReplayPageSize, Time);
    }

    /// <summary>Simulates the server's stop, as the hub's drain signals it.</summary>
    public void Stop() => _shutdown.Raise();

    public void Dispose()
    {
        Engine.Dispose();
        _shutdown.Dispose();
        _metrics.Dispose();
    }
}
