using Microsoft.Extensions.Options;

namespace SensorHub.Server.Uploads;

/// <summary>
/// Reads the data folder before the server takes requests, then deletes stale uploads every
/// <see cref="UploadOptions.CleanupInterval"/>.
/// </summary>
internal sealed class UploadJanitor(UploadService uploads, IOptions<UploadOptions> options, TimeProvider time) : BackgroundService
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
                await uploads.DeleteStaleAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
