namespace SensorHub.Server.Redis.Sessions;

/// <summary>Registers the Redis implementation of the sessions seams.</summary>
internal static class RedisSessionsRegistration
{
    public static IServiceCollection AddRedisSessions(this IServiceCollection services) => services;
}
