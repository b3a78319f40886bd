using Microsoft.AspNetCore.SignalR;

namespace SensorHub.Server.Hubs;

/// <summary>
/// What one connection holds open, kept in its items: its streams (both ways) and its <c>Upload</c> streams. Created
/// when the connection opens, before any invocation, so that concurrent invocations only ever read the items.
/// </summary>
internal sealed class ConnectionLimits
{
    /// <summary>Streams of either direction: server-to-client streams and client-to-server ones (<c>Publish</c>, <c>Upload</c>).</summary>
    public SlotCounter Streams { get; } = new();

    /// <summary><c>Upload</c> streams.</summary>
    public SlotCounter Uploads { get; } = new();

    public static void Attach(HubCallerContext context) => context.Items[typeof(ConnectionLimits)] = new ConnectionLimits();

    public static ConnectionLimits Of(HubCallerContext context) => (ConnectionLimits)context.Items[typeof(ConnectionLimits)]!;
}

/// <summary>A count of things held open, up to a limit.</summary>
internal sealed class SlotCounter
{
    private int _taken;

    public bool TryTake(int limit)
    {
        if (Interlocked.Increment(ref _taken) <= limit)
            return true;
        Interlocked.Decrement(ref _taken);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _taken);
}
