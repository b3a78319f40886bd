namespace SensorHub.Server.Redis.Feeds;

/// <summary>Registers the Redis implementation of the feeds seams.</summary>
internal static class RedisFeedsRegistration
{
    public static IServiceCollection AddRedisFeeds(this IServiceCollection services) => services;
}
