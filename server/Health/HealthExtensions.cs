using Microsoft.Extensions.Options;
using SensorHub.Server.Redis;

namespace SensorHub.Server.Health;

/// <summary>Registers the checks of <c>/healthz/ready</c>, every one in this one place.</summary>
internal static class HealthExtensions
{
    /// <summary>The log category of ASP.NET Core's health check service.</summary>
    public const string HealthCheckServiceLogCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>
    /// The readiness checks, in the order they run and appear in the answer: stopping, uploads, data-folder, and
    /// with the Redis engine redis. Their setting (<see cref="HealthOptions"/>) is validated at start.
    /// </summary>
    public static IServiceCollection AddSensorHubHealth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HealthOptions>, HealthOptionsValidator>();
        // One instance for the app: the data folder's probe keeps its last answer between requests.
        services.AddSingleton<DataFolderCheck>();
        var checks = services.AddHealthChecks()
            .AddCheck<StoppingCheck>("stopping", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<UploadsLoadedCheck>("uploads", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<DataFolderCheck>("data-folder", tags: [HealthEndpoints.ReadyTag]);
        if (configuration.UsesRedis())
            checks.AddCheck<RedisReadinessCheck>("redis", tags: [HealthEndpoints.ReadyTag]);
        // The health check service logs every failing check at Error, once per request: a load balancer asking every
        // second while a node stops, or while Redis is away, would fill the log with errors. The checks log each change
        // themselves (the data folder, Redis' availability, the stop).
        services.AddLogging(logging => logging.AddFilter(HealthCheckServiceLogCategory, LogLevel.Critical));
        return services;
    }
}
