namespace SensorHub.Server.Shutdown;

/// <summary>
/// The moment the server begins to stop, as the sources of server-to-client streams hear it. <see cref="HubDrain"/>
/// raises it before SignalR closes any connection; each source then ends its open streams after what they have
/// buffered, and ends the streams opened from then on at once, so that every client sees its streams complete rather
/// than its connection close under them. A distributed engine or store listens to it the same way.
/// </summary>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the server begins to stop. Its callbacks run before the drain waits, so they must not block.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Whether the server has begun to stop; true before any <see cref="Stopping"/> callback runs.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Raised once, by the drain (and by tests that play the host).</summary>
    internal void Raise() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();
}
