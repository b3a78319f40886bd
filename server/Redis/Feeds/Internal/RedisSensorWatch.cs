using System.Threading.Channels;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// One watch of the sensors whose ids start with <see cref="Prefix"/> on a Redis node: the router offers it every
/// registration and removal it hears on the sensors' channel, and a <see cref="SensorChangeKind.Resync"/> when it may
/// have missed one. Bounded as the in-memory engine's watch (<see cref="SensorChangeQueue"/>: a full queue turns into
/// one Resync); never waits for its reader. Fails with <c>backend_unavailable</c> when the node gives up on Redis.
/// </summary>
internal sealed class RedisSensorWatch(RedisFeedRouter router, string prefix) : ISensorWatch
{
    private readonly SensorChangeQueue _queue = new();
    private CancellationTokenRegistration _onLost;
    private int _disposed;

    /// <summary>Ids start with this.</summary>
    public string Prefix { get; } = prefix;

    public ChannelReader<SensorChange> Changes => _queue;

    /// <summary>Offers a change; never waits.</summary>
    public void Offer(SensorChange change) => _queue.Report(change);

    /// <summary>Fails the watch with the router's error, once the node gives up on Redis.</summary>
    public void EndOn(CancellationToken lost) =>
        _onLost = lost.UnsafeRegister(static state => ((RedisSensorWatch)state!).Fail(), this);

    /// <summary>No change will come any more (the server stops): the reader sees the end after what is queued.</summary>
    public void Complete() => _queue.Complete();

    private void Fail() => _queue.Complete(router.Availability.Unavailable());

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _onLost.Dispose();
        router.Unwatch(this);
        _queue.Complete();
    }
}
