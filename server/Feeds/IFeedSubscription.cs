using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// One subscriber's live buffer on one sensor. The engine writes, one reader reads. Disposing detaches it from the
/// sensor and releases the buffer; the engine completes it when the server shuts down. Disposing may happen on any
/// thread, more than once, and while the reader waits: the reader then sees <see cref="Live"/> complete.
/// </summary>
public interface IFeedSubscription : IDisposable
{
    /// <summary>The buffered live readings, in sequence order (with jumps where readings were dropped).</summary>
    ChannelReader<Reading> Live { get; }

    /// <summary>
    /// The sensor's newest sequence when this subscription attached (its first sequence minus one before any
    /// reading): every reading up to it was in history by then, and every later one is offered to <see cref="Live"/>.
    /// </summary>
    long AttachedAfter { get; }

    /// <summary>
    /// Completes when no reading will be offered any more: the engine completed the subscription (the server stops) or
    /// it was disposed. Unlike <c>Live.Completion</c> it does not wait for the buffer to be read.
    /// </summary>
    Task Ended { get; }

    /// <summary>Counts readings handed to the subscriber (replayed ones too), for the engine's counters.</summary>
    void CountDelivered(long readings);

    /// <summary>
    /// Counts the readings of <see cref="CountDelivered"/> that came from history (a replay, or a fill of what a full
    /// buffer dropped) rather than from <see cref="Live"/>, for the engine's counters.
    /// </summary>
    void CountReplayed(long readings);

    /// <summary>
    /// Counts readings the subscriber will never receive: its buffer dropped them and history no longer held them.
    /// The reader decides this, not the buffer, because a reading dropped from the buffer may still come from history.
    /// </summary>
    void CountDropped(long readings);
}
