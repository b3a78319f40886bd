namespace SensorHub.Server.Health;

internal static partial class HealthLog
{
    [LoggerMessage(10001, LogLevel.Warning, "The data folder {Folder} is not writable: the node answers 503 on /healthz/ready until it is.")]
    public static partial void DataFolderNotWritable(ILogger logger, string folder, Exception exception);

    [LoggerMessage(10002, LogLevel.Information, "The data folder {Folder} is writable again.")]
    public static partial void DataFolderWritable(ILogger logger, string folder);
}
