using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SensorHub.Server.Sessions.Internal;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Sessions;

/// <summary>Registers live sessions.</summary>
public static class SessionsServiceCollectionExtensions
{
    /// <summary>
    /// Sessions' settings (validated at start), the embedded <see cref="InMemorySessionStore"/> and
    /// <see cref="SessionService"/>, and the <see cref="IdleSessionSweeper"/> that ends idle sessions. A distributed
    /// <see cref="ISessionStore"/> registered before this wins.
    /// </summary>
    public static IServiceCollection AddSensorHubSessions(this IServiceCollection services)
    {
        services.AddOptions<LiveSessionOptions>().BindConfiguration(LiveSessionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LiveSessionOptions>, LiveSessionOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ShutdownSignal>();
        services.TryAddSingleton<SessionMetrics>();
        services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        services.AddSingleton<SessionService>();
        services.AddHostedService<IdleSessionSweeper>();
        return services;
    }
}
