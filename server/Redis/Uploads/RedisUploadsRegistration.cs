using SensorHub.Server.Uploads;

namespace SensorHub.Server.Redis.Uploads;

/// <summary>Registers the Redis implementation of the uploads seams.</summary>
internal static class RedisUploadsRegistration
{
    /// <summary>
    /// The Redis upload coordinator: <c>UploadService</c> takes it in place of the in-memory one, and the node then
    /// treats its data folder (<c>SensorHub:Uploads:DataPath</c>) as shared with every other node on the same Redis.
    /// </summary>
    public static IServiceCollection AddRedisUploads(this IServiceCollection services) =>
        services.AddSingleton<IUploadCoordinator, RedisUploadCoordinator>();
}
