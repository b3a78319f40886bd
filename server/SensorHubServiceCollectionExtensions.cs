using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Health;
using SensorHub.Server.HubProtocols;
using SensorHub.Server.Hubs;
using SensorHub.Server.Identity;
using SensorHub.Server.Mqtt;
using SensorHub.Server.OpenApi;
using SensorHub.Server.Redis;
using SensorHub.Server.Sessions;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Simulation;
using SensorHub.Server.Stats;
using SensorHub.Server.Telemetry;
using SensorHub.Server.Uploads;

namespace SensorHub.Server;

/// <summary>Registers SensorHub's services.</summary>
public static class SensorHubServiceCollectionExtensions
{
    /// <summary>
    /// The hub, both hub protocols, the feed services on the in-memory engine (or on Redis where
    /// <c>SensorHub:Redis:Configuration</c> is set), and the simulated sensors.
    /// </summary>
    public static WebApplicationBuilder AddSensorHub(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddOptions<FeedOptions>().BindConfiguration(FeedOptions.Section).ValidateOnStart();
        services.AddOptions<HubLimitsOptions>().BindConfiguration(HubLimitsOptions.Section).ValidateOnStart();
        services.AddOptions<SimulationOptions>().BindConfiguration(SimulationOptions.Section).ValidateOnStart();
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FeedOptions>, FeedOptionsValidator>();
        services.AddSingleton<IValidateOptions<HubLimitsOptions>, HubLimitsOptionsValidator>();
        services.AddSingleton<IValidateOptions<HubLimitsOptions>, HubLimitsFitUploads>();
        services.AddSingleton<IValidateOptions<SimulationOptions>, SimulationOptionsValidator>();
        services.AddSingleton<IValidateOptions<SimulationOptions>, SimulationFitsSensorCap>();
        services.AddSingleton<IValidateOptions<UploadOptions>, UploadOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSensorHubIdentity();
        services.AddSensorHubHealth(builder.Configuration);
        services.AddSensorHubOpenApi();
        // On Redis the Redis implementations register first, and the in-memory ones below stand aside.
        if (builder.Configuration.UsesRedis())
            services.AddSensorHubRedis();
        services.AddInMemoryFeedEngine();
        services.AddSingleton<FeedStreams>();
        services.AddSingleton<ReadingIngest>();
        services.AddSingleton<HubActivity>();
        services.AddSingleton<Refusals>();
        services.AddSingleton<HubDiagnosticsFilter>();
        HubInvocationOutcome.Listen();
        services.AddSingleton<HubErrorFilter>();
        services.AddSingleton<HubAuthorizationFilter>();
        services.AddSingleton<ConnectionLimitsFilter>();
        services.AddSingleton<ConnectionRates>();
        services.AddHostedService<SensorSimulator>();
        services.AddHostedService<IdleSensorSweeper>();
        services.AddSingleton<UploadFileStore>();
        services.AddSingleton<UploadMetrics>();
        services.AddSingleton<UploadService>();
        services.AddHostedService<UploadJanitor>();
        services.AddSensorHubSessions();
        services.AddHubShutdown();
        builder.AddSensorHubTelemetry();
        services.AddSensorHubMqtt();

        // SignalR's dispatcher logs every failed invocation at Error with its stack trace, refusals included: any
        // client could flood the log with them. HubErrorFilter logs instead, a refusal at Debug with its code and an
        // unexpected failure at Error.
        builder.Logging.AddFilter(DispatcherLogCategory, LogLevel.Critical);
        services.AddSignalR(hub =>
            {
                // In this order: the call's trace tags and log scope around all the rest (so that what the others log
                // carries its fields); client streams drained after everything else has ended (so that a refusal by any
                // filter leaves the connection up); errors next, so that a refusal by the others is mapped too; roles
                // before limits, so that a call refused for its role takes nothing.
                hub.AddFilter<HubDiagnosticsFilter>();
                hub.AddFilter<ClientStreamDrainFilter>();
                hub.AddFilter<HubErrorFilter>();
                hub.AddFilter<HubAuthorizationFilter>();
                hub.AddFilter<ConnectionLimitsFilter>();
                hub.AddFilter<ShutdownHubFilter>();
            })
            .AddJsonProtocol()
            .AddMessagePackProtocol()
            .SkipUnknownHubMessages();
        services.AddOptions<HubOptions>()
            .Configure<IOptions<HubLimitsOptions>, IOptions<UploadOptions>>((hub, limits, uploads) =>
                hub.MaximumReceiveMessageSize = limits.Value.MaximumReceiveMessageSize ?? uploads.Value.LargestChunkMessage);

        return builder;
    }

    /// <summary>The log category of SignalR's hub dispatcher, which <c>AddSensorHub</c> keeps to critical entries.</summary>
    public const string DispatcherLogCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    /// <summary>
    /// The embedded engine and history, kept in this process's memory. A distributed engine registers its own
    /// <see cref="IFeedEngine"/> and <see cref="IReadingHistory"/> before this, and these stand aside.
    /// </summary>
    public static IServiceCollection AddInMemoryFeedEngine(this IServiceCollection services)
    {
        services.TryAddSingleton<ShutdownSignal>();
        services.TryAddSingleton<FeedTotals>();
        services.TryAddSingleton<SensorFeedRegistry>();
        // Its constructor is internal (it takes the engine's internal totals): made here rather than by activation.
        services.TryAddSingleton(provider => new FeedMetrics(provider.GetRequiredService<IMeterFactory>(), provider.GetRequiredService<FeedTotals>()));
        services.TryAddSingleton<IFeedEngine, InMemoryFeedEngine>();
        services.TryAddSingleton<IReadingHistory, InMemoryReadingHistory>();
        return services;
    }
}
