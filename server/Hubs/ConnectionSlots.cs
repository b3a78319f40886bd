using Microsoft.AspNetCore.SignalR;

namespace SensorHub.Server.Hubs;

/// <summary>
/// What one connection holds open, kept in its items. Created when the connection opens, before any invocation, so
/// that concurrent invocations only ever read the items.
/// </summary>
internal sealed class ConnectionSlots
{
    /// <summary>Server-to-client streams.</summary>
    public SlotCounter Streams { get; } = new();

    /// <summary>Upload streams.</summary>
    public SlotCounter Uploads { get; } = new();

    public static void Attach(HubCallerContext context) => context.Items[typeof(ConnectionSlots)] = new ConnectionSlots();

    public static ConnectionSlots Of(HubCallerContext context) => (ConnectionSlots)context.Items[typeof(ConnectionSlots)]!;
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
