using Microsoft.Extensions.Options;
using SensorHub.Server.Redis.Nodes;

namespace SensorHub.Server.Redis.Sessions;

/// <summary>
/// Every <see cref="RedisOptions.PositionCheckInterval"/>, the sessions this node follows catch up with their
/// sequence in Redis (a pub/sub message lost while the connection was cut, or a channel stalled without failing), and
/// failed leaves are tried again. It also tells the store when the node was taken for dead.
/// </summary>
internal sealed class RedisSessionPositionCheck(
    RedisSessionStore store,
    RedisNodeRegistry nodes,
    IOptions<RedisOptions> options,
    TimeProvider time) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        nodes.PresumedDead += store.PresumedDead;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        nodes.PresumedDead -= store.PresumedDead;
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PositionCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                await store.CheckAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host stops.
        }
    }
}
