namespace SensorHub.Server.Shutdown;

internal static partial class ShutdownLog
{
    [LoggerMessage(7001, LogLevel.Information, "Stopping: new hub connections are refused; completing {Streams} streams on {Connections} connections, waiting at most {Timeout}.")]
    public static partial void Draining(ILogger logger, long streams, int connections, TimeSpan timeout);

    [LoggerMessage(7002, LogLevel.Information, "Hub drained in {Milliseconds} ms: every stream completed and every connection closed.")]
    public static partial void Drained(ILogger logger, long milliseconds);

    [LoggerMessage(7003, LogLevel.Warning, "Hub drain gave up after {Timeout}: {Streams} streams still running, {Connections} connections still open; SignalR closes them now.")]
    public static partial void DrainTimedOut(ILogger logger, TimeSpan timeout, long streams, int connections);

    [LoggerMessage(7004, LogLevel.Debug, "Connection {ConnectionId} opened while the server stops; it is asked to close at once.")]
    public static partial void LateConnection(ILogger logger, string connectionId);

    [LoggerMessage(7005, LogLevel.Debug, "Refused {Method} {Path} with 503: the server is stopping.")]
    public static partial void Refused(ILogger logger, string method, string path);
}
