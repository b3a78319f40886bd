namespace SensorHub.Server.Mqtt;

internal static partial class MqttIngestLog
{
    [LoggerMessage(11001, LogLevel.Debug, "MQTT ingest is off: SensorHub:Mqtt:Topics lists no topic filter.")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(11002, LogLevel.Information, "MQTT ingest connecting to {Host}:{Port} as client {ClientId} (TLS: {UseTls}).")]
    public static partial void Connecting(ILogger logger, string host, int port, string clientId, bool useTls);

    [LoggerMessage(11003, LogLevel.Information,
        "MQTT ingest connected to {Host}:{Port} as client {ClientId}; the broker kept the session: {SessionPresent}.")]
    public static partial void Connected(ILogger logger, string host, int port, string clientId, bool sessionPresent);

    [LoggerMessage(11004, LogLevel.Warning, "MQTT ingest could not connect to {Host}:{Port}: {Reason}. Next attempt in {Delay}.")]
    public static partial void ConnectFailed(ILogger logger, string host, int port, string reason, TimeSpan delay);

    [LoggerMessage(11005, LogLevel.Warning, "MQTT ingest lost the broker {Host}:{Port}: {Reason}. Next attempt in {Delay}.")]
    public static partial void ConnectionLost(ILogger logger, string host, int port, string reason, TimeSpan delay);

    [LoggerMessage(11006, LogLevel.Information, "MQTT ingest subscribed to {Filter} at QoS 1.")]
    public static partial void Subscribed(ILogger logger, string filter);

    [LoggerMessage(11007, LogLevel.Error, "MQTT ingest's subscription to {Filter} was refused by the broker: {ResultCode}.")]
    public static partial void SubscriptionRefused(ILogger logger, string filter, string resultCode);

    [LoggerMessage(11008, LogLevel.Information, "MQTT ingest disconnected from {Host}:{Port}; the broker keeps what arrives for {SessionExpiry}.")]
    public static partial void Disconnected(ILogger logger, string host, int port, TimeSpan sessionExpiry);

    [LoggerMessage(11009, LogLevel.Warning,
        "MQTT ingest skipped a message on {Topic} ({Outcome}): {Problem}. {Skipped} more were skipped for this reason without a log entry since the last one.")]
    public static partial void InvalidMessage(ILogger logger, string topic, string outcome, string problem, long skipped);

    [LoggerMessage(11010, LogLevel.Warning, "MQTT ingest waits for the engine before it takes in the message on {Topic}: {Error}")]
    public static partial void BackendUnavailable(ILogger logger, string topic, string error);

    [LoggerMessage(11011, LogLevel.Error, "MQTT ingest failed on the message on {Topic}: a fault of the server, not of the message. It is counted as failed and acknowledged (skipped), so that it cannot stall the messages behind it.")]
    public static partial void MessageFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(11012, LogLevel.Warning,
        "MQTT ingest subscribes without a shared subscription group while the Redis engine is in use: every node takes in every message, and each reading is published once per node. Set SensorHub:Mqtt:SharedSubscriptionGroup.")]
    public static partial void NoSharedGroupOnRedis(ILogger logger);

    [LoggerMessage(11013, LogLevel.Warning, "MQTT ingest's broker {Host}:{Port} does not support shared subscriptions; subscriptions to $share/{Group}/... will be refused.")]
    public static partial void SharedSubscriptionsUnavailable(ILogger logger, string host, int port, string group);
}
