using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The live side of the hub: which sensors exist, the sequence of each, and the fan-out of every reading to the
/// live subscribers. <see cref="Internal.InMemoryFeedEngine"/> is the embedded default; a distributed engine
/// replaces this one registration (together with <see cref="IReadingHistory"/>).
/// </summary>
public interface IFeedEngine
{
    /// <summary>Registers a sensor, or updates the descriptive fields of a known one. Its readings are kept.</summary>
    ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the reading the sensor's next sequence, keeps it in history and offers it to every live subscriber,
    /// in sequence order per sensor. An unknown sensor is registered as a <c>device</c>. Never waits for a subscriber.
    /// </summary>
    ValueTask<Reading> PublishAsync(string sensorId, double value, DateTime timestampUtc, CancellationToken cancellationToken);

    /// <summary>One sensor, or <see langword="null"/> when it is unknown.</summary>
    ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken);

    /// <summary>Every known sensor, ordered by id.</summary>
    ValueTask<IReadOnlyList<SensorInfo>> ListSensorsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Attaches a live buffer to a sensor: every reading published after this returns is offered to it.
    /// Returns <see langword="null"/> for an unknown sensor. The caller owns the subscription and must dispose it.
    /// </summary>
    IFeedSubscription? Subscribe(string sensorId, LiveBufferMode mode);

    /// <summary>Counters since start, for <c>/api/stats</c> and metrics.</summary>
    FeedCounters GetCounters();
}

/// <summary>What a live buffer keeps when its reader falls behind.</summary>
public enum LiveBufferMode
{
    /// <summary>Every reading, up to <see cref="FeedOptions.SubscriberBufferCapacity"/>; then the oldest is dropped and counted.</summary>
    Queue,

    /// <summary>Only the newest reading: a sampled (<c>maxRate</c>) subscriber skips the rest on purpose, so nothing counts as dropped.</summary>
    Latest,
}

/// <summary>A sensor's descriptive fields.</summary>
public sealed record SensorDescriptor(string Id, string Name, string Kind, string? Unit);

/// <summary>The engine's counters since start.</summary>
public readonly record struct FeedCounters(long Sensors, long Published, long Delivered, long Dropped, long Subscriptions);
