using System.Threading.Channels;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// A subscriber's bounded live buffer on a Redis node: the node's router offers each reading of the sensor's channel to
/// it and never waits (a full buffer drops its oldest; the cursor fills from the stream what it can and counts the
/// rest). Ends with the router's error when the node gives up on Redis, so that the stream ends with it.
/// </summary>
internal sealed class RedisLiveSubscription : IFeedSubscription
{
    private readonly RedisFeedRouter _router;
    private readonly SensorChannel _channel;
    private readonly Channel<Reading> _buffer;
    private CancellationTokenRegistration _onLost;
    private long _delivered;
    private long _dropped;
    private int _disposed;
    private int _ended;
    private TaskCompletionSource? _endedSource;

    public RedisLiveSubscription(RedisFeedRouter router, SensorChannel channel, LiveBufferMode mode, int capacity)
    {
        _router = router;
        _channel = channel;
        _buffer = Channel.CreateBounded<Reading>(new BoundedChannelOptions(mode == LiveBufferMode.Latest ? 1 : capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
            AllowSynchronousContinuations = false,
        });
    }

    public ChannelReader<Reading> Live => _buffer.Reader;

    public long AttachedAfter { get; internal set; }

    public long Delivered => Volatile.Read(ref _delivered);

    public long Dropped => Volatile.Read(ref _dropped);

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
            if (Volatile.Read(ref _ended) != 0)
                source.TrySetResult();
            return source.Task;
        }
    }

    public void CountDelivered(long readings)
    {
        Volatile.Write(ref _delivered, _delivered + readings);
        _router.Delivered.Add(readings);
    }

    public void CountDropped(long readings)
    {
        Volatile.Write(ref _dropped, _dropped + readings);
        _router.CountDropped(readings);
    }

    /// <summary>Called by the router, one message at a time (under the channel's fan-out lock).</summary>
    public void Offer(Reading reading) => _buffer.Writer.TryWrite(reading);

    /// <summary>Ends the stream with <paramref name="lost"/>'s error once its buffer is read, when the node gives up on Redis.</summary>
    public void EndOn(CancellationToken lost) =>
        _onLost = lost.UnsafeRegister(static state => ((RedisLiveSubscription)state!).Fail(), this);

    /// <summary>Ends the stream after what is buffered, as at shutdown.</summary>
    public void Complete()
    {
        _buffer.Writer.TryComplete();
        End();
    }

    private void Fail()
    {
        _buffer.Writer.TryComplete(_router.Availability.Unavailable());
        End();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _onLost.Dispose();
        _buffer.Writer.TryComplete();
        End();
        _router.Detach(_channel, this);
    }

    private void End()
    {
        Interlocked.Exchange(ref _ended, 1);
        Volatile.Read(ref _endedSource)?.TrySetResult();
    }
}
