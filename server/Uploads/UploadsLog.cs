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

    [LoggerMessage(4010, LogLevel.Error, "Upload {UploadId} is gone, but its files could not all be deleted; the next start deletes what is left.")]
    public static partial void FilesNotDeleted(ILogger logger, string uploadId, Exception exception);

    [LoggerMessage(4011, LogLevel.Information, "Upload {UploadId} was complete for longer than {RetainCompleteFor} and has been deleted.")]
    public static partial void RetentionDeleted(ILogger logger, string uploadId, TimeSpan retainCompleteFor);

    [LoggerMessage(4012, LogLevel.Error, "The janitor could not handle upload {UploadId}; it was skipped and is looked at again at the next sweep.")]
    public static partial void SweepOfUploadFailed(ILogger logger, string uploadId, Exception exception);

    [LoggerMessage(4013, LogLevel.Error, "The janitor's sweep failed; it goes on at the next one.")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(4014, LogLevel.Warning, "{Path} ({What}) was left by a crash and has been deleted.")]
    public static partial void LeftoverDeleted(ILogger logger, string path, string what);

    [LoggerMessage(4015, LogLevel.Warning, "{Path} ({What}) was left by a crash but could not be deleted.")]
    public static partial void LeftoverNotDeleted(ILogger logger, string path, string what, Exception exception);
}
