using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Sessions;

/// <summary>
/// Where live sessions live: their state, their presence, their recent annotations, and the fan-out of their events
/// to every joined stream. It also enforces the limits that need the shared state to be exact (open sessions per user,
/// participants per session, the annotation rate), raising <see cref="SessionException"/>s. Who may do what, and the
/// checking of arguments, stay in <see cref="SessionService"/>. <see cref="Internal.InMemorySessionStore"/> is the
/// embedded default; a distributed store replaces this one registration.
/// </summary>
public interface ISessionStore
{
    /// <summary>Adds a new session.</summary>
    /// <exception cref="SessionException">Its owner already owns <see cref="LiveSessionOptions.MaxOpenSessionsPerUser"/> open sessions.</exception>
    Task AddAsync(StoredSession session, CancellationToken cancellationToken);

    /// <summary>An open session, or <see langword="null"/> when there is none with that id (ended ones are gone).</summary>
    Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Every open session.</summary>
    Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Joins a user's stream to a session. The membership's first event is the snapshot, which counts the joiner among
    /// the participants; every event after it follows with no gap and no duplicate. A user's first stream announces
    /// <c>joined</c> to the others. Returns <see langword="null"/> when the session is not open. The caller owns the
    /// membership and must dispose it, which leaves.
    /// </summary>
    /// <exception cref="SessionException">The user is not present yet and the session already has <see cref="LiveSessionOptions.MaxParticipantsPerSession"/>.</exception>
    Task<ISessionMembership?> JoinAsync(string sessionId, string userName, CancellationToken cancellationToken);

    /// <summary>Keeps an annotation among the recent ones and sends it to every joined stream; <see langword="false"/> when the session is not open.</summary>
    /// <exception cref="SessionException">Its sensor is not one of the session's, or its author is over the annotation rate.</exception>
    Task<bool> AnnotateAsync(string sessionId, Annotation annotation, CancellationToken cancellationToken);

    /// <summary>Replaces a session's sensors and tells every joined stream; <see langword="null"/> when the session is not open.</summary>
    Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a session: every joined stream gets <c>ended</c> and then completes, and the session's state is released.
    /// <see langword="false"/> when the session was not open.
    /// </summary>
    Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken);
}

/// <summary>A session as the store keeps it: what everyone sees, and whom a private session admits.</summary>
/// <param name="Info">The session as clients see it.</param>
/// <param name="Invited">The names of the users a private session admits besides its owner and admins.</param>
public sealed record StoredSession(SessionInfo Info, IReadOnlyList<string> Invited);

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
