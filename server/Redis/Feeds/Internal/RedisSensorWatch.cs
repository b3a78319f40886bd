using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// One watch of the sensors whose ids start with <see cref="Prefix"/> on a Redis node: the router offers it every
/// registration and removal it hears on the sensors' channel, and a <see cref="SensorChangeKind.Resync"/> when it may
/// have missed one. Bounded: past <c>capacity</c> unread changes, one Resync takes the place of the rest. While a Resync
/// is queued and unread, later changes are left out too: the listing the reader makes when it reads the Resync comes
/// after them, and shows them. Never waits for its reader.
/// </summary>
internal sealed class RedisSensorWatch : ISensorWatch
{
    private readonly RedisFeedRouter _router;
    private readonly int _capacity;
    private readonly Channel<SensorChange> _changes = Channel.CreateUnbounded<SensorChange>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = false,
    });
    private readonly Lock _lock = new();
    private int _unread;
    private bool _resyncQueued;
    private int _disposed;
    private CancellationTokenRegistration _onLost;

    public RedisSensorWatch(RedisFeedRouter router, string prefix, int capacity)
    {
        _router = router;
        _capacity = capacity;
        Prefix = prefix;
        Changes = new Reader(this);
    }

    /// <summary>Ids start with this.</summary>
    public string Prefix { get; }

    public ChannelReader<SensorChange> Changes { get; }

    /// <summary>Offers a change; never waits. A change beyond the capacity, or any while a Resync is unread, becomes (or joins) that Resync.</summary>
    public void Offer(SensorChange change)
    {
        lock (_lock)
        {
            if (_resyncQueued)
                return;
            if (change.Kind == SensorChangeKind.Resync || _unread >= _capacity)
            {
                change = new SensorChange(SensorChangeKind.Resync, null);
                _resyncQueued = true;
            }
            if (_changes.Writer.TryWrite(change))
                _unread++;
        }
    }

    /// <summary>Fails the watch with the router's error, once the node gives up on Redis.</summary>
    public void EndOn(CancellationToken lost) =>
        _onLost = lost.UnsafeRegister(static state => ((RedisSensorWatch)state!).Fail(), this);

    /// <summary>No change will come any more: the server stops.</summary>
    public void Complete() => _changes.Writer.TryComplete();

    private void Fail() => _changes.Writer.TryComplete(_router.Availability.Unavailable());

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _onLost.Dispose();
        _changes.Writer.TryComplete();
        _router.Unwatch(this);
    }

    private bool TryRead(out SensorChange change)
    {
        lock (_lock)
        {
            if (!_changes.Reader.TryRead(out change))
                return false;
            _unread--;
            // The queued Resync is always the last change in the queue: reading it ends the dropping.
            if (change.Kind == SensorChangeKind.Resync)
                _resyncQueued = false;
            return true;
        }
    }

    /// <summary>The reader's side: counts what is read, so that the bound is on unread changes.</summary>
    private sealed class Reader(RedisSensorWatch watch) : ChannelReader<SensorChange>
    {
        public override Task Completion => watch._changes.Reader.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out SensorChange item) => watch.TryRead(out item);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            watch._changes.Reader.WaitToReadAsync(cancellationToken);
    }
}
