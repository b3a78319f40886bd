using System.Diagnostics;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Uploads;

/// <summary>
/// The activity of one <c>Upload</c> stream (an append) on <see cref="SensorHubTelemetry.ActivitySource"/>: a child of
/// the current activity, which inside a hub method is SignalR's invocation activity. Started only when a listener wants
/// it (the OTLP exporter's tracing); otherwise <see cref="Start"/> returns <see langword="null"/> and costs a check.
/// </summary>
internal static class UploadActivity
{
    /// <summary>The activity's name.</summary>
    public const string Name = "sensorhub.upload.append";

    /// <summary>The upload's id (32 hexadecimal digits; absent when the call named none that is well formed).</summary>
    public const string UploadId = "sensorhub.upload.id";

    /// <summary>The offset the append started at, in bytes.</summary>
    public const string Offset = "sensorhub.upload.offset";

    /// <summary>The bytes this append wrote to disk.</summary>
    public const string BytesWritten = "sensorhub.upload.bytes_written";

    /// <summary>An activity for an append at <paramref name="offset"/>, or <see langword="null"/> when nobody listens.</summary>
    public static Activity? Start(string? uploadId, long offset)
    {
        var activity = SensorHubTelemetry.ActivitySource.StartActivity(Name, ActivityKind.Internal);
        if (activity is null)
            return null;
        // Only a well-formed id is ever echoed (as in error texts): a client may send anything of any length.
        if (UploadIds.IsWellFormed(uploadId))
            activity.SetTag(UploadId, uploadId);
        activity.SetTag(Offset, offset);
        return activity;
    }

    /// <summary>Ends the activity's work: the bytes written, and the outcome (<paramref name="errorType"/> when it failed).</summary>
    public static void Stop(Activity? activity, long bytesWritten, string? errorType)
    {
        if (activity is null)
            return;
        activity.SetTag(BytesWritten, bytesWritten);
        if (errorType is not null)
        {
            activity.SetTag(SensorHubTelemetry.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
