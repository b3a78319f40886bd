namespace SensorHub.Server.Redis.Uploads;

/// <summary>Registers the Redis implementation of the uploads seams.</summary>
internal static class RedisUploadsRegistration
{
    public static IServiceCollection AddRedisUploads(this IServiceCollection services) => services;
}
