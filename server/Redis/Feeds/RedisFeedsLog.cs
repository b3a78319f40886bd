namespace SensorHub.Server.Redis.Feeds;

/// <summary>Log entries of the Redis feeds (8100–8199).</summary>
internal static partial class RedisFeedsLog
{
    [LoggerMessage(8101, LogLevel.Debug, "Following sensor {SensorId}'s channel.")]
    public static partial void Followed(ILogger logger, string sensorId);

    [LoggerMessage(8102, LogLevel.Debug, "Left sensor {SensorId}'s channel: no subscriber on this node.")]
    public static partial void Left(ILogger logger, string sensorId);

    [LoggerMessage(8103, LogLevel.Information, "Sensor {SensorId}: {Count} readings from {From} on read from its stream, which its channel had not brought.")]
    public static partial void Filled(ILogger logger, string sensorId, int count, long from);

    [LoggerMessage(8104, LogLevel.Warning, "Sensor {SensorId}: reading its stream to fill a jump failed ({Error}); each subscriber fills it from history.")]
    public static partial void FillFailed(ILogger logger, string sensorId, string error);

    [LoggerMessage(8105, LogLevel.Warning, "Sensor {SensorId}: its channel stopped at {LastFanned} while Redis held {Newest} a check ago; reading the rest from its stream.")]
    public static partial void Stalled(ILogger logger, string sensorId, long lastFanned, long newest);

    [LoggerMessage(8106, LogLevel.Warning, "The position check failed ({Error}); the next one tries again.")]
    public static partial void CheckFailed(ILogger logger, string error);

    [LoggerMessage(8107, LogLevel.Warning, "Sensor {SensorId}: a channel message that does not parse was left out.")]
    public static partial void BadMessage(ILogger logger, string sensorId);

    [LoggerMessage(8108, LogLevel.Information, "Sensor {SensorId} registered ({Kind}) in Redis.")]
    public static partial void SensorRegistered(ILogger logger, string sensorId, string kind);

    [LoggerMessage(8109, LogLevel.Information, "Sensor {SensorId} removed from Redis with its history: no reading and no subscriber on any node for {IdleFor}.")]
    public static partial void SensorRemoved(ILogger logger, string sensorId, TimeSpan idleFor);

    [LoggerMessage(8110, LogLevel.Debug, "Following the sensors' channel for this node's watches, from change {Changes} on.")]
    public static partial void WatchingSensors(ILogger logger, long changes);

    [LoggerMessage(8111, LogLevel.Warning, "This node may have missed a sensor's registration or removal ({Reason}); its {Watches} watches list their sensors again.")]
    public static partial void WatchesResync(ILogger logger, int watches, string reason);

    [LoggerMessage(8112, LogLevel.Warning, "A message on the sensors' channel that does not parse was left out: {Text}.")]
    public static partial void BadSensorsMessage(ILogger logger, string text);

    [LoggerMessage(8113, LogLevel.Warning, "Sensor {SensorId}: reading whether it was registered anew failed ({Error}); the announcement of its removal takes the pattern streams off it.")]
    public static partial void RenewalCheckFailed(ILogger logger, string sensorId, string error);
}
