using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Uploads;

namespace SensorHub.Tests.Infrastructure;

/// <summary>Looks at the server's upload state from inside, for waits that a client cannot observe.</summary>
public static class UploadInspection
{
    public static UploadStatus GetStatus(this IServiceProvider services, string uploadId) =>
        services.GetRequiredService<UploadService>().GetStatusAsync(uploadId, s_admin, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Whether an <c>Upload</c> stream holds the upload's write slot now.</summary>
    public static bool HasWriter(this IServiceProvider services, string uploadId) => State(services, uploadId).IsWriting;

    /// <summary>The <c>WatchUpload</c> watchers registered on the upload now.</summary>
    public static int WatcherCount(this IServiceProvider services, string uploadId) => State(services, uploadId).WatcherCount;

    /// <summary><c>Upload</c> streams appending now, over the whole server.</summary>
    public static int ActiveWriters(this IServiceProvider services) => services.GetRequiredService<UploadService>().ActiveWriters;

    /// <summary>The uploads and bytes that count in <paramref name="ownerId"/>'s quota now.</summary>
    public static (int Uploads, long Bytes) QuotaOf(this IServiceProvider services, string ownerId) =>
        services.GetRequiredService<UploadService>().QuotaOf(ownerId);

    /// <summary>One look of the janitor, now: deletes what is stale or past its retention by the server's clock.</summary>
    public static Task SweepUploadsAsync(this IServiceProvider services) =>
        services.GetRequiredService<UploadService>().SweepAsync(CancellationToken.None).WaitAsync(Timeouts.Default);

    private static UploadState State(IServiceProvider services, string uploadId) =>
        services.GetRequiredService<UploadService>().Peek(uploadId) ?? throw new InvalidOperationException($"No upload '{uploadId}'.");

    private static readonly SensorHubUser s_admin = new("inspector", "inspector", [Roles.Admin], null);
}
