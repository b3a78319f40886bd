using Microsoft.Extensions.Diagnostics.HealthChecks;
using SensorHub.Server.Uploads;

namespace SensorHub.Server.Health;

/// <summary>
/// Not ready until the uploads' records in the data folder are loaded (<see cref="UploadService.IsLoaded"/>): every
/// upload call waits for them until then.
/// </summary>
internal sealed class UploadsLoadedCheck(UploadService uploads) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(uploads.IsLoaded
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The uploads in the data folder are not loaded yet."));
}
