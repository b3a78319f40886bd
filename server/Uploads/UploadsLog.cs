namespace SensorHub.Server.Uploads;

internal static partial class UploadsLog
{
    [LoggerMessage(4001, LogLevel.Information, "Upload {UploadId} begun: {Name} ({ContentType}, {TotalBytes} bytes).")]
    public static partial void Begun(ILogger logger, string uploadId, string name, string contentType, long? totalBytes);

    [LoggerMessage(4002, LogLevel.Information, "Upload {UploadId} complete: {Bytes} bytes, SHA-256 {Sha256}.")]
    public static partial void Completed(ILogger logger, string uploadId, long bytes, string sha256);

    [LoggerMessage(4003, LogLevel.Warning, "Upload {UploadId} failed: {Error}")]
    public static partial void Failed(ILogger logger, string uploadId, string error);

    [LoggerMessage(4004, LogLevel.Information, "Upload {UploadId} stopped at {Bytes} bytes; it can be resumed there.")]
    public static partial void Interrupted(ILogger logger, string uploadId, long bytes, Exception exception);

    [LoggerMessage(4005, LogLevel.Information, "Upload {UploadId} was stale and has been deleted.")]
    public static partial void StaleDeleted(ILogger logger, string uploadId);

    [LoggerMessage(4006, LogLevel.Information, "{Count} uploads found in {Folder}.")]
    public static partial void Loaded(ILogger logger, int count, string folder);

    [LoggerMessage(4007, LogLevel.Error, "Processing upload {UploadId} failed; the next writer goes on from its last checkpoint.")]
    public static partial void ProcessingFailed(ILogger logger, string uploadId, Exception exception);

    [LoggerMessage(4008, LogLevel.Warning, "Upload record {Path} cannot be read and was skipped; its upload is unknown to this server.")]
    public static partial void RecordUnreadable(ILogger logger, string path, Exception exception);

    [LoggerMessage(4009, LogLevel.Warning, "Upload {UploadId}: how far processing got could not be saved; a resume may publish some of its rows again.")]
    public static partial void CheckpointNotSaved(ILogger logger, string uploadId, Exception exception);

    [LoggerMessage(4010, LogLevel.Error, "Upload {UploadId} was stale but its files could not be deleted; the next restart finds it again.")]
    public static partial void StaleNotDeleted(ILogger logger, string uploadId, Exception exception);
}
