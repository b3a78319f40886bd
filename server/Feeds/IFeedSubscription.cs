using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// One subscriber's live buffer on one sensor. The engine writes, one reader reads. Disposing detaches it from the
/// sensor and releases the buffer; the engine completes it when the server shuts down.
/// </summary>
public interface IFeedSubscription : IDisposable
{
    /// <summary>The buffered live readings, in sequence order (with jumps where readings were dropped).</summary>
    ChannelReader<Reading> Live { get; }

    /// <summary>Counts readings handed to the subscriber (replayed ones too), for the engine's counters.</summary>
    void CountDelivered(long readings);
}
