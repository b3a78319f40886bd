using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

internal sealed partial class SensorsHub
{
    /// <summary>Creates an upload; its id comes back before a byte travels.</summary>
    [Requires(Permission.Publish)]
    [Creates]
    public Task<UploadStatus> BeginUpload(UploadRequest? request) => uploads.BeginAsync(request, Caller, Context.ConnectionAborted);

    /// <summary>Appends a stream of chunks at <paramref name="offset"/>, the bytes already received.</summary>
    [Requires(Permission.Publish)]
    [UploadSlot]
    public Task<UploadResult> Upload(string? uploadId, long offset, IAsyncEnumerable<byte[]?> chunks) =>
        uploads.AppendAsync(uploadId, offset, chunks, Caller, Context.ConnectionAborted);

    /// <summary>Where an upload stands: the bytes durably written, the offset to resume at.</summary>
    public Task<UploadStatus> GetUploadStatus(string? uploadId) => uploads.GetStatusAsync(uploadId, Caller, Context.ConnectionAborted);

    /// <summary>An upload's status each time it changes, until it completes or fails.</summary>
    public IAsyncEnumerable<UploadStatus> WatchUpload(string? uploadId, CancellationToken cancellationToken) =>
        uploads.WatchAsync(uploadId, Caller, cancellationToken);

    /// <summary>A complete upload's bytes from <paramref name="offset"/>, in chunks.</summary>
    public IAsyncEnumerable<byte[]> Download(string? uploadId, long offset, CancellationToken cancellationToken) =>
        uploads.DownloadAsync(uploadId, offset, Caller, cancellationToken);

    /// <summary>The caller's uploads (an admin's: all), oldest first.</summary>
    public Task<IReadOnlyList<UploadStatus>> ListUploads() => uploads.ListAsync(Caller, Context.ConnectionAborted);
}
