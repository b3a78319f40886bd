using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Shutdown;

/// <summary>Registers and maps the hub's graceful stop.</summary>
internal static class ShutdownExtensions
{
    /// <summary>Its setting (validated at start), the signal stream sources listen to, the drain and its hub filter.</summary>
    public static IServiceCollection AddHubShutdown(this IServiceCollection services)
    {
        services.AddOptions<HubShutdownOptions>().BindConfiguration(HubShutdownOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HubShutdownOptions>, HubShutdownOptionsValidator>();
        services.AddSingleton<IValidateOptions<HubShutdownOptions>, HubShutdownFitsHost>();
        services.TryAddSingleton<ShutdownSignal>();
        services.AddSingleton<HubDrain>();
        services.AddSingleton<ShutdownHubFilter>();
        return services;
    }

    /// <summary>The 503 gate in front of the hub, and the drain on the host's stop.</summary>
    public static WebApplication UseHubShutdown(this WebApplication app)
    {
        app.UseMiddleware<StoppingGateMiddleware>();
        var lifetime = app.Lifetime;
        var drain = app.Services.GetRequiredService<HubDrain>();
        // Registered once the app has started, so after SignalR's connection manager registered its own callback
        // (when MapHub ran): the last registered runs first, so the drain runs before SignalR closes every connection.
        lifetime.ApplicationStarted.Register(() => lifetime.ApplicationStopping.Register(drain.Run));
        return app;
    }
}
