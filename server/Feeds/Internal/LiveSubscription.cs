using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// A subscriber's bounded live buffer. The sensor's publisher writes under the sensor's lock and never waits:
/// a full buffer drops its oldest reading, which its reader may still read from history (it counts what it cannot).
/// One reader (the subscriber's stream) reads.
/// </summary>
internal sealed class LiveSubscription : IFeedSubscription
{
    private readonly SensorFeed _feed;
    private readonly SensorFeedRegistry _totals;
    private readonly Channel<Reading> _buffer;
    private long _delivered;
    private long _dropped;
    private int _disposed;
    private int _ended;
    private TaskCompletionSource? _endedSource;

    public LiveSubscription(SensorFeed feed, LiveBufferMode mode, int capacity)
    {
        _feed = feed;
        _totals = feed.Registry;
        var options = new BoundedChannelOptions(mode == LiveBufferMode.Latest ? 1 : capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        };
        _buffer = Channel.CreateBounded<Reading>(options);
    }

    public ChannelReader<Reading> Live => _buffer.Reader;

    public long Delivered => Volatile.Read(ref _delivered);

    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Set by <see cref="SensorFeed.Attach"/> under the sensor's lock, before any reading is offered.</summary>
    public long AttachedAfter { get; internal set; }

    /// <summary>
    /// Called by the one reader for every reading it delivers: its own count is a plain write, and the engine's total
    /// a striped one, so that <c>/api/stats</c> reads totals without walking subscriptions, and readers on different
    /// cores share no counter.
    /// </summary>
    public void CountDelivered(long readings)
    {
        Volatile.Write(ref _delivered, _delivered + readings);
        _totals.Delivered.Add(readings);
    }

    /// <summary>Rare (only what history no longer held), so the engine's total is one interlocked counter, exact at any moment.</summary>
    public void CountDropped(long readings)
    {
        Volatile.Write(ref _dropped, _dropped + readings);
        _totals.CountDropped(readings);
    }

    /// <summary>Called by the publisher, under the sensor's lock.</summary>
    public void Offer(Reading reading) => _buffer.Writer.TryWrite(reading);

    /// <summary>Made on first use only: a paced reader waits on it, the others never ask.</summary>
    public Task Ended
    {
        get
        {
            var source = Volatile.Read(ref _endedSource);
            if (source is null)
            {
                var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                source = Interlocked.CompareExchange(ref _endedSource, made, null) ?? made;
            }
            // Read after the source is published (a full fence): an End that ran before is seen here, a later one sees the source.
            if (Volatile.Read(ref _ended) != 0)
                source.TrySetResult();
            return source.Task;
        }
    }

    /// <summary>Ends the stream after what is buffered, as at shutdown.</summary>
    public void Complete()
    {
        _buffer.Writer.TryComplete();
        End();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _buffer.Writer.TryComplete();
        End();
        _feed.Detach(this);
    }

    private void End()
    {
        Interlocked.Exchange(ref _ended, 1);
        Volatile.Read(ref _endedSource)?.TrySetResult();
    }
}
