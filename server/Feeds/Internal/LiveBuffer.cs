using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>
/// What every engine's subscription shares: a bounded live buffer that its engine offers readings to without ever
/// waiting (a full buffer drops its oldest, which the reader may still read from history and counts when it cannot),
/// the subscriber's own counts, and the <see cref="Ended"/> signal. One reader (the subscriber's stream) reads. An
/// engine adds where its totals go and what disposing detaches. A <c>SubscribeMany</c> stream's subscriptions write into
/// one <see cref="SharedLiveBuffer"/> instead of a buffer each.
/// </summary>
internal abstract class LiveBuffer : IFeedSubscription
{
    // Exactly one of the two: a buffer of its own, or one shared with other sensors' subscriptions.
    private readonly Channel<Reading>? _buffer;
    private readonly SharedLiveBuffer? _shared;
    private long _delivered;
    private long _dropped;
    private int _disposed;
    private int _ended;
    private TaskCompletionSource? _endedSource;

    /// <param name="mode">What the buffer keeps: up to <paramref name="capacity"/> readings, or only the newest.</param>
    /// <param name="capacity">Readings kept in <see cref="LiveBufferMode.Queue"/> mode.</param>
    /// <param name="singleWriter">Whether one writer offers at a time (a router), not several publishers under a lock.</param>
    protected LiveBuffer(LiveBufferMode mode, int capacity, bool singleWriter) =>
        _buffer = Channel.CreateBounded<Reading>(new BoundedChannelOptions(mode == LiveBufferMode.Latest ? 1 : capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = singleWriter,
            AllowSynchronousContinuations = false,
        });

    /// <summary>A subscription that offers into <paramref name="shared"/>, a buffer several sensors' subscriptions share.</summary>
    protected LiveBuffer(SharedLiveBuffer shared) => _shared = shared;

    public ChannelReader<Reading> Live => _buffer?.Reader ?? _shared!.Reader;

    /// <summary>
    /// Whether it writes into a <see cref="SharedLiveBuffer"/> (a <c>SubscribeMany</c> stream's): such a subscription
    /// does not keep its sensor from being removed as idle, and disposing it leaves the shared buffer open.
    /// </summary>
    public bool IsShared => _shared is not null;

    public long Delivered => Volatile.Read(ref _delivered);

    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Set by the engine when it attaches the buffer, before any reading is offered.</summary>
    public long AttachedAfter { get; internal set; }

    /// <summary>
    /// Called by the one reader for every reading it delivers: its own count is a plain write, and the engine's total
    /// (<see cref="AddDelivered"/>) a striped one, so that <c>/api/stats</c> reads totals without walking
    /// subscriptions, and readers on different cores share no counter.
    /// </summary>
    public void CountDelivered(long readings)
    {
        Volatile.Write(ref _delivered, _delivered + readings);
        AddDelivered(readings);
    }

    /// <summary>
    /// Called by the one reader for the readings it delivered from history rather than the live buffer (a replay, a
    /// fill): they are in <see cref="CountDelivered"/> too. One striped add, on the history path only.
    /// </summary>
    public void CountReplayed(long readings) => AddReplayed(readings);

    /// <summary>Rare (only what history no longer held), so the engine's total is one interlocked counter, exact at any moment.</summary>
    public void CountDropped(long readings)
    {
        Volatile.Write(ref _dropped, _dropped + readings);
        AddDropped(readings);
    }

    /// <summary>Called by the engine's one writer at a time (the sensor's lock, the channel's fan-out); never waits.</summary>
    public void Offer(Reading reading)
    {
        if (_buffer is not null)
            _buffer.Writer.TryWrite(reading);
        else
            _shared!.Offer(reading);
    }

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
        if (_buffer is not null)
            _buffer.Writer.TryComplete();
        else
            _shared!.Complete();
        End();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // A shared buffer goes on with its other sensors: only its owner's stream ends it.
        _buffer?.Writer.TryComplete();
        End();
        Detach();
    }

    /// <summary>Ends the stream with <paramref name="error"/> once what is buffered is read.</summary>
    protected void Fail(Exception error)
    {
        if (_buffer is not null)
            _buffer.Writer.TryComplete(error);
        else
            _shared!.Fail(error);
        End();
    }

    /// <summary>Adds to the engine's total of delivered readings.</summary>
    protected abstract void AddDelivered(long readings);

    /// <summary>Adds to the engine's total of readings delivered from history.</summary>
    protected abstract void AddReplayed(long readings);

    /// <summary>Adds to the engine's total of readings lost to a subscriber.</summary>
    protected abstract void AddDropped(long readings);

    /// <summary>Takes the buffer off its sensor; called once, from the first <see cref="Dispose"/>.</summary>
    protected abstract void Detach();

    private void End()
    {
        Interlocked.Exchange(ref _ended, 1);
        Volatile.Read(ref _endedSource)?.TrySetResult();
    }
}
