using Microsoft.Extensions.Options;

namespace SensorHub.Server.Uploads;

/// <summary>
/// Reads the data folder before the server takes requests (deleting what a crash left there), then every
/// <see cref="UploadOptions.CleanupInterval"/> deletes stale uploads and complete ones past their retention.
/// </summary>
/// <remarks>
/// Nothing it meets stops the host: an exception out of a <c>BackgroundService</c> would (the host's default
/// <c>BackgroundServiceExceptionBehavior.StopHost</c>). A failure with one upload is handled inside the sweep; a
/// failure of a whole sweep is logged here, and the next tick goes on.
/// </remarks>
internal sealed class UploadJanitor(UploadService uploads, IOptions<UploadOptions> options, TimeProvider time, ILogger<UploadJanitor> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await uploads.LoadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await uploads.SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    UploadsLog.SweepFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
