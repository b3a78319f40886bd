using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The live side of the hub: which sensors exist, the sequence of each, and the fan-out of every reading to the
/// live subscribers. <see cref="Internal.InMemoryFeedEngine"/> is the embedded default; a distributed engine
/// replaces this one registration (together with <see cref="IReadingHistory"/>).
/// </summary>
/// <remarks>
/// The engine owns the sensor caps (<see cref="FeedOptions.MaxSensors"/>, <see cref="FeedOptions.MaxSensorsPerPublisher"/>)
/// because only it can make them exact: whether an item registers a sensor and whether that passes a cap is decided
/// in one step under whatever makes that step atomic (a lock here, a script in a shared store). Refusals come back as
/// a <see cref="PublishStatus"/>, never as exceptions, so that a flood of refused items costs no more than accepted ones.
/// </remarks>
public interface IFeedEngine
{
    /// <summary>
    /// Registers one of the server's own sensors (configured, simulated), or updates the descriptive fields of a known
    /// one, which from then on is the server's: never refused, counted in <see cref="FeedOptions.MaxSensors"/>, never
    /// removed as idle. Its readings are kept.
    /// </summary>
    ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the reading the sensor's next sequence, keeps it in history and offers it to every live subscriber, in
    /// sequence order per sensor. Never waits for a subscriber.
    /// </summary>
    /// <param name="sensorId">A valid sensor id.</param>
    /// <param name="value">A finite value.</param>
    /// <param name="timestampUtc">Its UTC timestamp.</param>
    /// <param name="registration">
    /// Whether an unknown sensor is registered (as a <c>device</c>), and for whom: a publisher's registration counts
    /// against both caps, the server's against <see cref="FeedOptions.MaxSensors"/> only;
    /// <see cref="SensorRegistration.None"/> answers <see cref="PublishStatus.UnknownSensor"/> instead.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The reading, or why nothing was published (an unknown sensor, a cap).</returns>
    ValueTask<PublishOutcome> PublishAsync(
        string sensorId, double value, DateTime timestampUtc, SensorRegistration registration, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes several readings to one sensor, in order, with consecutive sequences, as <see cref="PublishAsync"/>
    /// would one by one: the first reading decides whether the sensor is registered (or refused), the others follow it.
    /// A distributed engine sends them in one round trip; this default publishes them one by one.
    /// </summary>
    /// <param name="sensorId">A valid sensor id.</param>
    /// <param name="readings">Finite values with UTC timestamps; at least one.</param>
    /// <param name="registration">As for <see cref="PublishAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What became of them: the status of the first, and how many were published from which sequence on.</returns>
    /// <exception cref="SensorHubException">
    /// <c>backend_unavailable</c>: a distributed engine could not reach its store, or lost the connection after it
    /// sent the readings (their outcome is unknown; they are never sent again, which could publish them twice).
    /// </exception>
    async ValueTask<PublishManyOutcome> PublishManyAsync(
        string sensorId, ReadOnlyMemory<ReadingValue> readings, SensorRegistration registration, CancellationToken cancellationToken)
    {
        var status = PublishStatus.Published;
        long first = 0;
        for (var i = 0; i < readings.Length; i++)
        {
            var reading = readings.Span[i];
            var outcome = await PublishAsync(sensorId, reading.Value, reading.TimestampUtc, registration, cancellationToken).ConfigureAwait(false);
            if (!outcome.IsPublished)
                return new PublishManyOutcome(i == 0 ? outcome.Status : status, first, i);
            if (i == 0)
                (status, first) = (outcome.Status, outcome.Reading.Sequence);
        }
        return new PublishManyOutcome(status, first, readings.Length);
    }

    /// <summary>One sensor, or <see langword="null"/> when it is unknown.</summary>
    ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the known sensors whose id starts with <paramref name="prefix"/>, ordered by id (ordinal), after
    /// <paramref name="after"/>, leaving out those <paramref name="visible"/> rejects: the page is filled with visible
    /// sensors, so a caller bounded by prefixes never gets an empty page while more of its sensors follow.
    /// </summary>
    /// <param name="prefix">Ids start with this; empty for all.</param>
    /// <param name="after">Ids come after this one; <see langword="null"/> from the first.</param>
    /// <param name="limit">At most this many sensors (1 or more).</param>
    /// <param name="visible">Which ids the caller may see; <see langword="null"/>: all.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page; its <see cref="SensorPage.Next"/> is set when more visible sensors follow.</returns>
    ValueTask<SensorPage> ListSensorsAsync(
        string prefix, string? after, int limit, Predicate<string>? visible, CancellationToken cancellationToken);

    /// <summary>
    /// Attaches a live buffer to a sensor: every reading published after this returns is offered to it.
    /// Returns <see langword="null"/> for an unknown sensor. The caller owns the subscription and must dispose it.
    /// Asynchronous because a distributed engine confirms its subscription to the sensor's channel before it answers
    /// (which is what keeps the seam exact); the in-memory engine completes at once.
    /// </summary>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>: a distributed engine cannot reach its store.</exception>
    ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken);

    /// <summary>
    /// Attaches a sensor to a buffer that several sensors share (a <c>SubscribeMany</c> stream's): every reading
    /// published after this returns is offered to <paramref name="buffer"/>. Unlike a buffer of its own, such a
    /// subscription does not keep the sensor from being removed as idle (a pattern watches sensors, not one sensor):
    /// once the sensor is removed nothing more is offered, and watches report it (<see cref="WatchSensorsAsync"/>).
    /// Returns <see langword="null"/> for an unknown sensor. The caller owns the subscription and must dispose it;
    /// disposing it leaves <paramref name="buffer"/> open. Its <see cref="IFeedSubscription.Live"/> is the shared
    /// buffer's reader, read by the stream that owns the buffer.
    /// </summary>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>: a distributed engine cannot reach its store.</exception>
    ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Begins to follow the sensors whose ids start with <paramref name="prefix"/> that are registered or removed from
    /// the moment this returns: a sensor registered after it is reported before (in-memory) or around (distributed,
    /// where the stream then replays from its first reading) its first reading. The caller owns the watch and must
    /// dispose it. At server shutdown its changes complete.
    /// </summary>
    /// <param name="prefix">Ids start with this; empty for all (<see cref="Contracts.SensorPattern.Prefix"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>: a distributed engine cannot reach its store.</exception>
    ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Removes, with their history, the sensors publishers registered that have had neither a reading nor a live
    /// subscriber for at least <paramref name="idleFor"/>; the server's own sensors stay. A removed sensor no longer
    /// counts against its publisher's cap; publishing to its id again registers a new one whose sequences start above
    /// every earlier one. Called periodically: an engine that learns of activity only when called may remove a
    /// sensor up to two calls' interval late, never early.
    /// </summary>
    /// <returns>How many sensors were removed.</returns>
    ValueTask<int> RemoveIdleSensorsAsync(TimeSpan idleFor, CancellationToken cancellationToken);

    /// <summary>
    /// Counters since start, for <c>/api/stats</c> and metrics. Costs the same whatever the number of sensors and
    /// subscribers: running totals, never a walk.
    /// </summary>
    FeedCounters GetCounters();
}

/// <summary>One reading to publish: a finite value and its UTC timestamp.</summary>
public readonly record struct ReadingValue(double Value, DateTime TimestampUtc);

/// <summary>What <see cref="IFeedEngine.PublishManyAsync"/> did.</summary>
/// <param name="Status">The status of the first reading (<see cref="PublishStatus.Registered"/> when it registered the sensor).</param>
/// <param name="FirstSequence">The sequence of the first reading published; 0 when none was.</param>
/// <param name="Published">How many were published, from the first on, with consecutive sequences.</param>
public readonly record struct PublishManyOutcome(PublishStatus Status, long FirstSequence, int Published);

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

/// <summary>The engine's counters since start (<see cref="Sensors"/> and <see cref="Subscriptions"/>: now).</summary>
/// <param name="Sensors">Sensors known now.</param>
/// <param name="Published">Readings published since start.</param>
/// <param name="Delivered">Readings handed to subscribers' streams.</param>
/// <param name="Dropped">Readings subscribers lost.</param>
/// <param name="Subscriptions">Live subscriptions attached now.</param>
/// <param name="Node">
/// <see langword="null"/> for an engine of one process, where every count is the server's. A distributed engine names
/// this node: then <see cref="Sensors"/> and <see cref="Published"/> are the cluster's (kept in its store, read at most
/// a second ago), and <see cref="Delivered"/>, <see cref="Dropped"/> and <see cref="Subscriptions"/> this node's.
/// </param>
public readonly record struct FeedCounters(long Sensors, long Published, long Delivered, long Dropped, long Subscriptions, string? Node = null);

/// <summary>Whether <see cref="IFeedEngine.PublishAsync"/> may register an unknown sensor, and whom it counts against.</summary>
public readonly record struct SensorRegistration
{
    private SensorRegistration(bool allowed, string? publisherId) => (Allowed, PublisherId) = (allowed, publisherId);

    /// <summary>Publish to known sensors only.</summary>
    public static SensorRegistration None => default;

    /// <summary>Register as the server's own: counted in <see cref="FeedOptions.MaxSensors"/> only, never removed as idle.</summary>
    public static SensorRegistration ByServer => new(true, null);

    /// <summary>Whether an unknown sensor is registered.</summary>
    public bool Allowed { get; }

    /// <summary>The publisher whose cap it counts against; <see langword="null"/> for the server.</summary>
    public string? PublisherId { get; }

    /// <summary>Register for <paramref name="publisherId"/>: counted in both caps, removed once idle.</summary>
    public static SensorRegistration ByPublisher(string publisherId)
    {
        ArgumentNullException.ThrowIfNull(publisherId);
        return new(true, publisherId);
    }
}

/// <summary>What <see cref="IFeedEngine.PublishAsync"/> did.</summary>
public enum PublishStatus
{
    /// <summary>Published to a known sensor.</summary>
    Published,

    /// <summary>Registered the sensor, then published its first reading.</summary>
    Registered,

    /// <summary>Nothing published: the sensor is unknown and the call was not to register it.</summary>
    UnknownSensor,

    /// <summary>Nothing published: the sensor is unknown and the server holds <see cref="FeedOptions.MaxSensors"/>.</summary>
    TooManySensors,

    /// <summary>Nothing published: the sensor is unknown and its publisher has <see cref="FeedOptions.MaxSensorsPerPublisher"/>.</summary>
    TooManySensorsForPublisher,
}

/// <summary>The result of <see cref="IFeedEngine.PublishAsync"/>: the reading, or why there is none.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Reading">The published reading; <see langword="null"/> unless <see cref="IsPublished"/>.</param>
public readonly record struct PublishOutcome(PublishStatus Status, Reading? Reading)
{
    /// <summary>Whether the reading was published.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Reading))]
    public bool IsPublished => Status is PublishStatus.Published or PublishStatus.Registered;
}
