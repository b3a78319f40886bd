namespace SensorHub.Server.Hubs;

internal static partial class HubLog
{
    [LoggerMessage(2001, LogLevel.Warning, "Connection {ConnectionId} was refused a stream from {Method}: it already holds {Limit}.")]
    public static partial void StreamRefused(ILogger logger, string connectionId, string method, int limit);

    [LoggerMessage(2003, LogLevel.Debug, "{Method} on connection {ConnectionId} was refused: [{Code}] {Text}")]
    public static partial void Refused(ILogger logger, string method, string connectionId, string code, string text);

    [LoggerMessage(2004, LogLevel.Error, "{Method} on connection {ConnectionId} failed unexpectedly; the client was told no more than that.")]
    public static partial void Failed(ILogger logger, string method, string connectionId, Exception exception);

    [LoggerMessage(2002, LogLevel.Warning, "Connection {ConnectionId} was refused {Method}: its budget of calls that create things is spent.")]
    public static partial void CreationRefused(ILogger logger, string connectionId, string method);
}
