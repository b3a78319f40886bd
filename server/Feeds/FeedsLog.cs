namespace SensorHub.Server.Feeds;

internal static partial class FeedsLog
{
    [LoggerMessage(1001, LogLevel.Information, "Sensor {SensorId} registered ({Kind}).")]
    public static partial void SensorRegistered(ILogger logger, string sensorId, string kind);

    [LoggerMessage(1002, LogLevel.Debug, "Stream on {SensorId} started (fromSequence {FromSequence}, maxRate {MaxRate}).")]
    public static partial void StreamStarted(ILogger logger, string sensorId, long? fromSequence, double? maxRate);

    [LoggerMessage(1003, LogLevel.Debug, "Stream on {SensorId} ended (cancelled: {Cancelled}).")]
    public static partial void StreamEnded(ILogger logger, string sensorId, bool cancelled);

    [LoggerMessage(1004, LogLevel.Debug, "Publish stream ended: {Accepted} accepted, {Rejected} rejected.")]
    public static partial void PublishEnded(ILogger logger, long accepted, long rejected);
}
