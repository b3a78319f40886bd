using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Server.Feeds;
using SensorHub.Server.Sessions;

namespace SensorHub.Tests.Infrastructure;

/// <summary>A server on a fake clock, for tests of what happens after days or years.</summary>
public static class FakeClock
{
    /// <summary>
    /// Registers <paramref name="time"/> as the server's clock. SignalR measures a client's silence on the same clock
    /// (<c>ClientTimeoutInterval</c>, 30 s): a jump of days would close every open connection at the next heartbeat,
    /// unless a message from the client happened to come first. The timeout is lifted so that a test's connections
    /// outlive its jumps.
    /// </summary>
    /// <remarks>
    /// The idle sweeps of sessions and sensors are switched off: a fake clock fires a periodic timer once for every
    /// period a jump passes over, and a sweep each minute over a jump of years is millions of sweeps.
    /// </remarks>
    public static void Use(IServiceCollection services, FakeTimeProvider time)
    {
        services.AddSingleton<TimeProvider>(time);
        services.Configure<HubOptions>(hub => hub.ClientTimeoutInterval = TimeSpan.FromDays(365 * 1000));
        services.PostConfigure<LiveSessionOptions>(sessions => sessions.IdleTimeout = TimeSpan.Zero);
        services.PostConfigure<FeedOptions>(feeds => feeds.SensorIdleTimeout = TimeSpan.Zero);
    }
}
