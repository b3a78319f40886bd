using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SensorHub.Server.Redis.Feeds;
using SensorHub.Server.Redis.Sessions;
using SensorHub.Server.Redis.Uploads;

namespace SensorHub.Server.Redis;

/// <summary>Registers the Redis engine: feeds, sessions and upload coordination shared by every node on one Redis.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>Whether the configuration puts this node on Redis (<c>SensorHub:Redis:Configuration</c> is set).</summary>
    public static bool UsesRedis(this IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[RedisOptions.Section + ":" + nameof(RedisOptions.Configuration)]);

    /// <summary>
    /// The Redis connection, its availability, and the Redis implementations of the engine's seams; registered before
    /// the in-memory ones, which then stand aside.
    /// </summary>
    public static IServiceCollection AddSensorHubRedis(this IServiceCollection services)
    {
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>();
        services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsRules>();
        services.TryAddSingleton<RedisMetrics>();
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RedisAvailability>();
        services.AddHostedService(provider => provider.GetRequiredService<RedisAvailability>());
        services.AddRedisFeeds();
        services.AddRedisSessions();
        services.AddRedisUploads();
        return services;
    }
}
