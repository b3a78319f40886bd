namespace SensorHub.Server.Redis.Uploads;

/// <summary>Log entries of the Redis upload coordination (8300–8399).</summary>
internal static partial class RedisUploadsLog
{
    [LoggerMessage(8301, LogLevel.Warning, "Upload {UploadId}: this node lost its write lease ({Cause}); its writer stops, and the upload can be resumed on any node.")]
    public static partial void LeaseLost(ILogger logger, string uploadId, string cause);

    [LoggerMessage(8302, LogLevel.Warning, "Upload {UploadId}: the write lease could not be given back ({Error}); it runs out by itself.")]
    public static partial void LeaseNotReleased(ILogger logger, string uploadId, string error);

    [LoggerMessage(8303, LogLevel.Debug, "Upload {UploadId}: a change could not be announced ({Error}); watchers on other nodes see it at their next look.")]
    public static partial void ChangeNotAnnounced(ILogger logger, string uploadId, string error);

    [LoggerMessage(8304, LogLevel.Warning, "The janitor's turn could not be given back ({Error}); it runs out by itself.")]
    public static partial void JanitorTurnNotReleased(ILogger logger, string error);

    [LoggerMessage(8305, LogLevel.Information, "Upload quotas counted again from {Uploads} records for {Owners} owners.")]
    public static partial void QuotasCounted(ILogger logger, int uploads, int owners);

    [LoggerMessage(8306, LogLevel.Warning, "Upload quotas could not be counted again at start ({Error}); the janitor's next sweep counts them.")]
    public static partial void QuotasNotCounted(ILogger logger, string error);
}
