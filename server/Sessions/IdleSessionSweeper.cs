using Microsoft.Extensions.Options;

namespace SensorHub.Server.Sessions;

/// <summary>
/// Ends the sessions nobody has been in for <see cref="LiveSessionOptions.IdleTimeout"/>, every
/// <see cref="LiveSessionOptions.IdleSweepInterval"/>, so that a session nobody ends does not stay forever (nor count
/// against its owner's <see cref="LiveSessionOptions.MaxOpenSessionsPerUser"/>). Times come from the
/// <see cref="TimeProvider"/>, so tests move them. A sweep that fails is logged; the next one tries again, and the
/// host goes on.
/// </summary>
internal sealed class IdleSessionSweeper(
    ISessionStore store,
    IOptions<LiveSessionOptions> options,
    TimeProvider time,
    ILogger<IdleSessionSweeper> logger) : BackgroundService
{
    private readonly LiveSessionOptions _options = options.Value;
    private PeriodicTimer? _timer;
    private int _sweeps;

    /// <summary>Sweeps done so far (for tests: a sweep happened that did not end a session).</summary>
    public int Sweeps => Volatile.Read(ref _sweeps);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Made here rather than in ExecuteAsync, which runs in the background: the timer exists once the host has
        // started, so time that passes after that counts from then.
        if (_options.IdleTimeout > TimeSpan.Zero)
            _timer = new PeriodicTimer(_options.IdleSweepInterval, time);
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer)
            return;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                await SweepAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host stops.
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        try
        {
            var ended = await store.EndIdleAsync(_options.IdleTimeout, cancellationToken).ConfigureAwait(false);
            foreach (var session in ended)
                SessionsLog.EndedIdle(logger, session.Info.Id, session.Info.OwnerId, _options.IdleTimeout);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SessionsLog.SweepFailed(logger, ex);
        }
        finally
        {
            Interlocked.Increment(ref _sweeps);
        }
    }
}
