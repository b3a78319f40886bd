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

    [LoggerMessage(1005, LogLevel.Information, "Sensor {SensorId} removed with its history: no reading and no subscriber for {IdleFor}.")]
    public static partial void SensorRemoved(ILogger logger, string sensorId, TimeSpan idleFor);

    [LoggerMessage(1006, LogLevel.Information, "Idle sweep removed {Count} sensors.")]
    public static partial void IdleSwept(ILogger logger, int count);

    [LoggerMessage(1007, LogLevel.Error, "The idle sweep failed; the next one runs in {Interval}.")]
    public static partial void IdleSweepFailed(ILogger logger, Exception exception, TimeSpan interval);

    [LoggerMessage(1008, LogLevel.Information, "Idle sensors are kept: SensorIdleTimeout is 0.")]
    public static partial void IdleSweepOff(ILogger logger);

    [LoggerMessage(1009, LogLevel.Debug, "SubscribeMany on {Pattern} started: {Sensors} sensors match ({FromSequences} resumed, maxRate {MaxRate}).")]
    public static partial void ManyStreamStarted(ILogger logger, string pattern, int sensors, int fromSequences, double? maxRate);

    [LoggerMessage(1010, LogLevel.Debug, "SubscribeMany on {Pattern} ended with {Sensors} sensors (cancelled: {Cancelled}).")]
    public static partial void ManyStreamEnded(ILogger logger, string pattern, int sensors, bool cancelled);
}
