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

    private static readonly SensorHubUser s_admin = new("inspector", [Roles.Admin], null);
}
