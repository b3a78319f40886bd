using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// The embedded feed engine: sensors, sequences, history and fan-out in this process's memory. Every buffer in it
/// is bounded: a sensor's history by <see cref="FeedOptions.HistoryCapacity"/>, a subscriber's by
/// <see cref="FeedOptions.SubscriberBufferCapacity"/>.
/// </summary>
internal sealed class InMemoryFeedEngine : IFeedEngine, IDisposable
{
    private readonly SensorFeedRegistry _registry;
    private readonly ILogger<InMemoryFeedEngine> _logger;
    private readonly int _bufferCapacity;
    private readonly ShutdownSignal _shutdown;
    private readonly CancellationTokenRegistration _onStopping;
    private long _published;

    public InMemoryFeedEngine(
        SensorFeedRegistry registry,
        IOptions<FeedOptions> options,
        ShutdownSignal shutdown,
        ILogger<InMemoryFeedEngine> logger)
    {
        _registry = registry;
        _logger = logger;
        _bufferCapacity = options.Value.SubscriberBufferCapacity;
        _shutdown = shutdown;
        // Completing every live buffer when the server begins to stop lets each subscription's generator send what it
        // buffered and end normally, before SignalR closes the connections: its client sees the stream complete.
        _onStopping = shutdown.Stopping.Register(CompleteAll);
    }

    public ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken)
    {
        var feed = _registry.GetOrAdd(sensor, out var added);
        if (added)
            FeedsLog.SensorRegistered(_logger, sensor.Id, sensor.Kind);
        else
            feed.SetDescriptor(sensor);
        return ValueTask.CompletedTask;
    }

    public ValueTask<Reading> PublishAsync(string sensorId, double value, DateTime timestampUtc, CancellationToken cancellationToken)
    {
        if (!_registry.TryGet(sensorId, out var feed))
        {
            feed = _registry.GetOrAdd(new SensorDescriptor(sensorId, sensorId, "device", null), out var added);
            if (added)
                FeedsLog.SensorRegistered(_logger, sensorId, "device");
        }
        var reading = feed.Publish(value, timestampUtc);
        Interlocked.Increment(ref _published);
        return ValueTask.FromResult(reading);
    }

    public ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_registry.TryGet(sensorId, out var feed) ? feed.ToSensorInfo() : null);

    public ValueTask<IReadOnlyList<SensorInfo>> ListSensorsAsync(CancellationToken cancellationToken)
    {
        // A real array: MessagePack serializes the runtime type, and cannot serialize the type that a collection
        // expression makes for an IReadOnlyList.
        var sensors = _registry.Feeds.Select(feed => feed.ToSensorInfo()).OrderBy(s => s.Id, StringComparer.Ordinal).ToArray();
        return ValueTask.FromResult<IReadOnlyList<SensorInfo>>(sensors);
    }

    public IFeedSubscription? Subscribe(string sensorId, LiveBufferMode mode) =>
        _registry.TryGet(sensorId, out var feed) ? feed.Attach(mode, _bufferCapacity, completed: _shutdown.IsStopping) : null;

    public FeedCounters GetCounters()
    {
        long sensors = 0, delivered = _registry.RetiredDelivered, dropped = _registry.RetiredDropped, subscriptions = 0;
        foreach (var feed in _registry.Feeds)
        {
            sensors++;
            foreach (var subscriber in feed.Subscribers)
            {
                subscriptions++;
                delivered += subscriber.Delivered;
                dropped += subscriber.Dropped;
            }
        }
        return new FeedCounters(sensors, Volatile.Read(ref _published), delivered, dropped, subscriptions);
    }

    public void Dispose() => _onStopping.Dispose();

    private void CompleteAll()
    {
        // Feeds made from now on complete their subscribers at once (IsStopping is already true); the existing ones
        // complete theirs under their own lock.
        foreach (var feed in _registry.Feeds)
            feed.CompleteAll();
    }
}
