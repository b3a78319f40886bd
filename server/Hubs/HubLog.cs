namespace SensorHub.Server.Hubs;

internal static partial class HubLog
{
    [LoggerMessage(2001, LogLevel.Warning, "Connection {ConnectionId} was refused a stream from {Method}: it already holds {Limit}.")]
    public static partial void StreamRefused(ILogger logger, string connectionId, string method, int limit);
}
