using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// The embedded feed engine: sensors, sequences, history and fan-out in this process's memory. Every buffer in it
/// is bounded: a sensor's history by <see cref="FeedOptions.HistoryCapacity"/>, a subscriber's by
/// <see cref="FeedOptions.SubscriberBufferCapacity"/> (a <c>SubscribeMany</c> stream's, shared by its sensors, by
/// <see cref="FeedOptions.SubscribeManyBufferCapacity"/>), a watch's changes by <see cref="SensorChangeQueue.DefaultCapacity"/>,
/// and the sensors themselves by <see cref="FeedOptions.MaxSensors"/>.
/// </summary>
internal sealed class InMemoryFeedEngine : IFeedEngine, IDisposable
{
    private readonly SensorFeedRegistry _registry;
    private readonly ILogger<InMemoryFeedEngine> _logger;
    private readonly int _bufferCapacity;
    private readonly ShutdownSignal _shutdown;
    private readonly CancellationTokenRegistration _onStopping;

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
        _registry.RegisterOwn(sensor, out var added);
        if (added)
            FeedsLog.SensorRegistered(_logger, sensor.Id, sensor.Kind);
        return ValueTask.CompletedTask;
    }

    public ValueTask<PublishOutcome> PublishAsync(
        string sensorId, double value, DateTime timestampUtc, SensorRegistration registration, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = PublishStatus.Published;
            if (!_registry.TryGet(sensorId, out var feed))
            {
                if (!registration.Allowed)
                    return ValueTask.FromResult(new PublishOutcome(PublishStatus.UnknownSensor, null));
                status = _registry.GetOrRegister(sensorId, registration.PublisherId, out feed);
                if (feed is null)
                    return ValueTask.FromResult(new PublishOutcome(status, null));
                if (status == PublishStatus.Registered)
                    FeedsLog.SensorRegistered(_logger, sensorId, "device");
            }
            // Null only when the idle sweep removed the sensor between the lookup and the publish: look it up again,
            // which registers it anew (within the caps) or finds the one another publisher registered meanwhile.
            if (feed.Publish(value, timestampUtc) is { } reading)
            {
                feed.Totals.Published.Add(1);
                return ValueTask.FromResult(new PublishOutcome(status, reading));
            }
        }
    }

    public ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_registry.TryGet(sensorId, out var feed) ? feed.ToSensorInfo() : null);

    public ValueTask<SensorPage> ListSensorsAsync(
        string prefix, string? after, int limit, Predicate<string>? visible, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        // One more than asked says whether another page follows.
        var ids = _registry.Page(prefix, after, limit + 1, visible);
        var shown = Math.Min(ids.Count, limit);
        var sensors = new List<SensorInfo>(shown);
        for (var i = 0; i < shown; i++)
        {
            // A sensor removed as idle since its id was read is left out; the page stays in order.
            if (_registry.TryGet(ids[i], out var feed))
                sensors.Add(feed.ToSensorInfo());
        }
        // A real array: MessagePack serializes the runtime type, and cannot serialize the type that a collection
        // expression makes for an IReadOnlyList.
        return ValueTask.FromResult(new SensorPage { Sensors = sensors.ToArray(), Next = ids.Count > limit ? ids[limit - 1] : null });
    }

    public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Subscribe(sensorId, mode));

    /// <summary><see cref="SubscribeAsync"/>, which never waits here.</summary>
    public IFeedSubscription? Subscribe(string sensorId, LiveBufferMode mode) =>
        _registry.TryGet(sensorId, out var feed) ? feed.Attach(mode, _bufferCapacity, completed: _shutdown.IsStopping) : null;

    public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        IFeedSubscription? subscription = _registry.TryGet(sensorId, out var feed) ? feed.Attach(buffer, completed: _shutdown.IsStopping) : null;
        return ValueTask.FromResult(subscription);
    }

    public ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return ValueTask.FromResult<ISensorWatch>(_registry.Watch(prefix, completed: _shutdown.IsStopping));
    }

    public ValueTask<int> RemoveIdleSensorsAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        var removed = _registry.RemoveIdle(idleFor);
        foreach (var id in removed)
            FeedsLog.SensorRemoved(_logger, id, idleFor);
        return ValueTask.FromResult(removed.Count);
    }

    public FeedCounters GetCounters() =>
        new(_registry.Count, _registry.Totals.Published, _registry.Totals.Delivered, _registry.Totals.Dropped, _registry.Subscriptions);

    public void Dispose() => _onStopping.Dispose();

    private void CompleteAll()
    {
        // Feeds made from now on complete their subscribers at once (IsStopping is already true); the existing ones
        // complete theirs under their own lock.
        foreach (var feed in _registry.Feeds)
            feed.CompleteAll();
        _registry.CompleteWatches();
    }
}
