namespace SensorHub.Server.Hubs;

internal static partial class HubLog
{
    [LoggerMessage(2001, LogLevel.Warning, "Connection {ConnectionId} was refused a stream from {Method}: it already holds {Limit}.")]
    public static partial void StreamRefused(ILogger logger, string connectionId, string method, int limit);

    [LoggerMessage(2002, LogLevel.Warning, "Connection {ConnectionId} was refused {Method}: its budget of calls that create things is spent.")]
    public static partial void CreationRefused(ILogger logger, string connectionId, string method);
}
