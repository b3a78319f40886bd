namespace SensorHub.Server.Redis;

/// <summary>Log entries of the Redis connection (8000–8099; the Redis feeds take 8100–8199, sessions 8200–8299, uploads 8300–8399).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(8001, LogLevel.Error, "Redis is unavailable: {Cause}. Streams that need it end, and new ones are refused until it answers.")]
    public static partial void Unavailable(ILogger logger, string cause);

    [LoggerMessage(8002, LogLevel.Information, "Redis answers again.")]
    public static partial void Available(ILogger logger);

    [LoggerMessage(8003, LogLevel.Information, "Node {NodeId} runs on Redis ({Endpoints}) under the key prefix '{Prefix}'.")]
    public static partial void Started(ILogger logger, string nodeId, string endpoints, string prefix);
}
