using Microsoft.Extensions.DependencyInjection.Extensions;
using SensorHub.Server.Redis.Nodes;
using SensorHub.Server.Sessions;

namespace SensorHub.Server.Redis.Sessions;

/// <summary>Registers the Redis implementation of the sessions seams.</summary>
internal static class RedisSessionsRegistration
{
    public static IServiceCollection AddRedisSessions(this IServiceCollection services)
    {
        services.AddRedisNodes();
        services.TryAddSingleton<RedisSessionStore>();
        services.AddSingleton<ISessionStore>(provider => provider.GetRequiredService<RedisSessionStore>());
        services.AddSingleton<IDeadNodeCleanup>(provider => provider.GetRequiredService<RedisSessionStore>());
        services.AddHostedService<RedisSessionPositionCheck>();
        return services;
    }
}
