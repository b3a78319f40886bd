namespace SensorHub.Server.Hubs;

/// <summary>What the hub has open now: connections and server-to-client streams.</summary>
public sealed class HubActivity
{
    private long _connections;
    private long _activeStreams;

    /// <summary>Hub connections open now.</summary>
    public long Connections => Volatile.Read(ref _connections);

    /// <summary>Server-to-client stream generators running now.</summary>
    public long ActiveStreams => Volatile.Read(ref _activeStreams);

    internal void ConnectionOpened() => Interlocked.Increment(ref _connections);

    internal void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    internal void StreamStarted() => Interlocked.Increment(ref _activeStreams);

    internal void StreamEnded() => Interlocked.Decrement(ref _activeStreams);
}
