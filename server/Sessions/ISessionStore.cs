using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Sessions;

/// <summary>
/// Where live sessions live: their state, their presence, their recent annotations, and the fan-out of their events
/// to every joined stream. It also enforces the limits that need the shared state to be exact (open sessions per user,
/// participants per session, the annotation rate), raising <see cref="SessionException"/>s, and the checks that must
/// hold at the moment of a change: a joiner or an author must still be able to read every sensor of the session.
/// Who may do what otherwise, and the checking of arguments, stay in <see cref="SessionService"/>. <see cref="Internal.InMemorySessionStore"/> is the
/// embedded default; a distributed store replaces this one registration (<c>RedisSessionStore</c>, where every
/// change is one script in Redis and every rule below holds across nodes).
/// </summary>
public interface ISessionStore
{
    /// <summary>Adds a new session.</summary>
    /// <exception cref="SessionException">Its owner (by <see cref="SessionInfo.OwnerId"/>) already owns <see cref="LiveSessionOptions.MaxOpenSessionsPerUser"/> open sessions.</exception>
    Task AddAsync(StoredSession session, CancellationToken cancellationToken);

    /// <summary>An open session, or <see langword="null"/> when there is none with that id (ended ones are gone).</summary>
    Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Every open session.</summary>
    Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Joins a user's stream to a session. The membership's first event is the snapshot, which counts the joiner among
    /// the participants and holds only the recent annotations the joiner may read; every event after it follows with no
    /// gap and no duplicate. A user's first stream announces <c>joined</c> to the others. Returns <see langword="null"/>
    /// when the session is not open, or when the joiner may not read every one of its sensors at the moment of the
    /// join (they may have changed since the caller looked). The caller owns the membership and must dispose it, which
    /// leaves.
    /// </summary>
    /// <exception cref="SessionException">The user is not present yet and the session already has <see cref="LiveSessionOptions.MaxParticipantsPerSession"/>.</exception>
    Task<ISessionMembership?> JoinAsync(string sessionId, SessionUser joiner, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps an annotation among the recent ones and sends it to every joined stream that may read its sensor;
    /// <see langword="false"/> when the session is not open, or when its author may not read every one of its sensors.
    /// </summary>
    /// <exception cref="SessionException">Its sensor is not one of the session's, or its author (by <see cref="SessionUser.Id"/>) is over the annotation rate.</exception>
    Task<bool> AnnotateAsync(string sessionId, SessionUser author, Annotation annotation, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a session's sensors; <see langword="null"/> when the session is not open. Every joined stream whose
    /// user may not read all the new sensors ends with <see cref="SessionException.Unknown"/>, before the change is
    /// sent, and its user leaves (the others get <c>left</c> after <c>sensorsChanged</c>); every other stream gets
    /// <c>sensorsChanged</c>.
    /// </summary>
    Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a session: every joined stream gets <c>ended</c> and then completes, and the session's state is released.
    /// <see langword="false"/> when the session was not open.
    /// </summary>
    Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Ends, as <see cref="EndAsync"/> does, every session that has had no participant for at least
    /// <paramref name="idleFor"/> (a session is idle from its creation until someone joins, and again from the moment
    /// its last participant leaves). Decided under each session's lock, so a join either gets in first (and the
    /// session stays) or finds it ended. Returns the sessions it ended.
    /// </summary>
    Task<IReadOnlyList<StoredSession>> EndIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken);
}

/// <summary>A session as the store keeps it: what everyone sees, and whom a private session admits.</summary>
/// <param name="Info">The session as clients see it.</param>
/// <param name="Invited">The ids (token subjects) of the users a private session admits besides its owner and admins.</param>
public sealed record StoredSession(SessionInfo Info, IReadOnlyList<string> Invited);

/// <summary>
/// A user as the store needs to know them when they join or annotate: the key of their presence and of their
/// annotation rate, the name shown, and the sensor-id prefixes that bound what they may read.
/// </summary>
/// <param name="Id">
/// The presence key: the token's subject; for a token without one, a key the service made for that one stream (so
/// each such stream is a participant of its own, and never merges with another).
/// </param>
/// <param name="Name">The name shown to the others.</param>
/// <param name="SensorPrefixes">The prefixes of the sensor ids the user may read; <see langword="null"/> for every sensor.</param>
public sealed record SessionUser(string Id, string Name, IReadOnlyList<string>? SensorPrefixes)
{
    /// <summary>Whether the user may read <paramref name="sensorId"/>: its prefixes cover it.</summary>
    public bool MayRead(string sensorId)
    {
        if (SensorPrefixes is not { } prefixes)
            return true;
        foreach (var prefix in prefixes)
        {
            if (sensorId.StartsWith(prefix, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>Whether the user may read every one of <paramref name="sensorIds"/>: what seeing a session takes.</summary>
    public bool MayReadAll(IEnumerable<string> sensorIds) => SensorPrefixes is null || sensorIds.All(MayRead);

    /// <summary>Whether the user may receive <paramref name="annotation"/>: one about no sensor, or about a sensor they may read.</summary>
    public bool MayRead(Annotation annotation) => annotation.SensorId is not { } sensorId || MayRead(sensorId);
}

/// <summary>
/// One joined stream's place in a session: its bounded event buffer, written by the store, read by the stream.
/// Disposing it leaves the session; a user leaves (and the others get <c>left</c>) when their last stream does.
/// </summary>
public interface ISessionMembership : IAsyncDisposable
{
    /// <summary>
    /// The snapshot, then the session's events. It completes after <c>ended</c> (or when the server stops), and fails
    /// with a <see cref="SessionException"/> once more than <see cref="LiveSessionOptions.EventBufferCapacity"/> events wait.
    /// </summary>
    ChannelReader<SessionEvent> Events { get; }
}
