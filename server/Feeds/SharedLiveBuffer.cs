using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// One live buffer that several sensors' subscriptions write into: a <c>SubscribeMany</c> stream's. Bounded by
/// readings, not by sensors: when it is full the oldest reading in it is dropped, which is always the oldest of its
/// own sensor, so each sensor loses its oldest first and its reader sees a jump in that sensor's sequences. Each
/// sensor's engine offers under that sensor's own ordering (its lock, its channel's fan-out), so readings stay in
/// sequence order per sensor; between sensors they are in the order they were offered. One reader.
/// </summary>
/// <remarks>
/// Disposing one sensor's subscription leaves the buffer open (the stream goes on with its other sensors). Completing
/// it (the server stops) or failing it (the node gave up on its backend) through any of them ends the whole stream
/// after what is buffered: every sensor of a node shares the same fate there.
/// </remarks>
public sealed class SharedLiveBuffer
{
    private readonly Channel<Reading> _channel;

    /// <param name="capacity">Readings kept, for all its sensors together (1 or more).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 1.</exception>
    public SharedLiveBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _channel = Channel.CreateBounded<Reading>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>Readings kept at most.</summary>
    public int Capacity { get; }

    /// <summary>Every sensor's live readings, in sequence order per sensor (with jumps where the oldest were dropped).</summary>
    public ChannelReader<Reading> Reader => _channel.Reader;

    /// <summary>Whether the buffer was completed or failed: no reading will come any more.</summary>
    public bool IsCompleted => _channel.Reader.Completion.IsCompleted;

    /// <summary>Offers a reading; never waits (a full buffer drops its oldest).</summary>
    internal void Offer(Reading reading) => _channel.Writer.TryWrite(reading);

    /// <summary>Ends the stream after what is buffered (the server stops).</summary>
    internal void Complete() => _channel.Writer.TryComplete();

    /// <summary>Ends the stream with <paramref name="error"/> once what is buffered is read.</summary>
    internal void Fail(Exception error) => _channel.Writer.TryComplete(error);
}
