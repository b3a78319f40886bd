namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A watch on the in-memory engine: the registry reports into it, under its membership lock, every sensor added or
/// removed whose id starts with <see cref="Prefix"/>. Disposing takes it off the registry and ends its changes.
/// </summary>
internal sealed class InMemorySensorWatch(SensorFeedRegistry registry, string prefix) : ISensorWatch
{
    private readonly SensorChangeQueue _queue = new();
    private int _disposed;

    public string Prefix { get; } = prefix;

    public System.Threading.Channels.ChannelReader<SensorChange> Changes => _queue;

    /// <summary>Called by the registry under its membership lock; never waits.</summary>
    public void Report(SensorChangeKind kind, string sensorId)
    {
        if (sensorId.StartsWith(Prefix, StringComparison.Ordinal))
            _queue.Report(new SensorChange(kind, sensorId));
    }

    /// <summary>No change will come any more (the server stops): the reader sees the end after what is queued.</summary>
    public void Complete() => _queue.Complete();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        registry.Unwatch(this);
        _queue.Complete();
    }
}
