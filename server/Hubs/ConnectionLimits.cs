using System.Threading.RateLimiting;
using Microsoft.AspNetCore.SignalR;

namespace SensorHub.Server.Hubs;

/// <summary>
/// What one connection holds open: its streams (both ways), its <c>Upload</c> streams and its rate budgets. Kept as
/// one of its features (see <see cref="HubCaller"/> for why not in its items), set when the connection opens, before
/// any invocation, so that concurrent invocations only ever read the features. It goes with the connection: its buckets hold no timer, so nothing needs disposing, and a
/// <c>Publish</c> still ending after the connection closed may spend from them safely.
/// </summary>
internal sealed class ConnectionLimits(ConnectionRates rates)
{
    private RateLimiter? _creations;
    private RateLimiter? _readings;
    private RateLimiter? _newSensors;

    /// <summary>Streams of either direction: server-to-client streams and client-to-server ones (<c>Publish</c>, <c>Upload</c>).</summary>
    public SlotCounter Streams { get; } = new();

    /// <summary><c>Upload</c> streams.</summary>
    public SlotCounter Uploads { get; } = new();

    /// <summary>Calls that create things; made at the first (most connections never create anything).</summary>
    public RateLimiter Creations => LazyInitializer.EnsureInitialized(ref _creations, rates.NewCreations);

    /// <summary>Readings published, over all its <c>Publish</c> streams.</summary>
    public RateLimiter Readings => LazyInitializer.EnsureInitialized(ref _readings, rates.NewReadings);

    /// <summary>Sensors created by publishing to new ids.</summary>
    public RateLimiter NewSensors => LazyInitializer.EnsureInitialized(ref _newSensors, rates.NewSensors);

    public static void Attach(HubCallerContext context, ConnectionRates rates) => context.Features.Set(new ConnectionLimits(rates));

    public static ConnectionLimits Of(HubCallerContext context) =>
        context.Features.Get<ConnectionLimits>() ?? throw new InvalidOperationException("The connection's limits are attached when it opens.");
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
