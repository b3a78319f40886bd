using Microsoft.Extensions.Options;

namespace SensorHub.Server.Feeds;

/// <summary>
/// Removes, every <see cref="FeedOptions.IdleSweepInterval"/>, the sensors publishers registered that have had no
/// reading and no subscriber for <see cref="FeedOptions.SensorIdleTimeout"/> (none when it is zero), so that devices
/// that come and go do not fill the server's <see cref="FeedOptions.MaxSensors"/> for good.
/// </summary>
internal sealed class IdleSensorSweeper(
    IFeedEngine engine, IOptions<FeedOptions> options, TimeProvider time, ILogger<IdleSensorSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (idleFor, interval) = (options.Value.SensorIdleTimeout, options.Value.IdleSweepInterval);
        if (idleFor <= TimeSpan.Zero)
        {
            FeedsLog.IdleSweepOff(logger);
            return;
        }
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await SweepAsync(idleFor, interval, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One sweep; a failure is logged and the next sweep tries again (an exception here would stop the host).</summary>
    private async Task SweepAsync(TimeSpan idleFor, TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            var removed = await engine.RemoveIdleSensorsAsync(idleFor, cancellationToken);
            if (removed > 0)
                FeedsLog.IdleSwept(logger, removed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            FeedsLog.IdleSweepFailed(logger, ex, interval);
        }
    }
}
