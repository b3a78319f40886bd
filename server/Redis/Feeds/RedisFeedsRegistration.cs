using Microsoft.Extensions.DependencyInjection.Extensions;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Server.Redis.Feeds.Internal;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Redis.Feeds;

/// <summary>Registers the Redis implementation of the feeds seams.</summary>
internal static class RedisFeedsRegistration
{
    /// <summary>
    /// <see cref="IFeedEngine"/> and <see cref="IReadingHistory"/> on Redis, registered before the in-memory ones,
    /// which then stand aside; the router that follows the sensors' channels runs as a hosted service.
    /// </summary>
    public static IServiceCollection AddRedisFeeds(this IServiceCollection services)
    {
        services.TryAddSingleton<ShutdownSignal>();
        services.TryAddSingleton<FeedTotals>();
        services.TryAddSingleton<RedisFeedKeys>();
        services.TryAddSingleton<RedisFeedRouter>();
        services.AddHostedService(provider => provider.GetRequiredService<RedisFeedRouter>());
        services.AddSingleton<IFeedEngine, RedisFeedEngine>();
        services.AddSingleton<IReadingHistory, RedisReadingHistory>();
        return services;
    }
}
