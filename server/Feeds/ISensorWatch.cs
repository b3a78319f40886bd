using System.Threading.Channels;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The sensors registered and removed after a watch began (<see cref="IFeedEngine.WatchSensorsAsync"/>), for streams
/// that follow many sensors, those that appear later included. One reader. Disposing ends the watch.
/// </summary>
public interface ISensorWatch : IDisposable
{
    /// <summary>
    /// The changes, in the order the engine made them for each id. Completes when the server stops; fails with
    /// <c>backend_unavailable</c> when a distributed engine's node gives up on its store. Bounded: a reader that falls
    /// far behind gets one <see cref="SensorChangeKind.Resync"/> in place of what was lost.
    /// </summary>
    ChannelReader<SensorChange> Changes { get; }
}

/// <summary>One change a <see cref="ISensorWatch"/> reports.</summary>
/// <param name="Kind">What changed.</param>
/// <param name="SensorId">The sensor; <see langword="null"/> for <see cref="SensorChangeKind.Resync"/>.</param>
public readonly record struct SensorChange(SensorChangeKind Kind, string? SensorId);

/// <summary>What a <see cref="SensorChange"/> says.</summary>
public enum SensorChangeKind
{
    /// <summary>The sensor was registered: its first reading follows (or has just been published).</summary>
    Added,

    /// <summary>The sensor was removed (idle): no reading will come from it; the same id registered again is a new sensor.</summary>
    Removed,

    /// <summary>Changes may have been lost (the reader fell behind, or a distributed engine's message was): list the sensors again.</summary>
    Resync,
}
