using SensorHub.Contracts;

namespace SensorHub.Server.Sessions;

/// <summary>
/// A session request that the caller got wrong or may not make; the message says what. The messages that a session
/// store raises are made here, so that every store words them alike.
/// </summary>
public sealed class SessionException(string code, string message) : SensorHubException(code, message)
{
    /// <summary>
    /// An unknown, ended, or private session the caller may not see: all three answer alike, so that a private session's
    /// existence does not leak.
    /// </summary>
    public static SessionException Unknown(string sessionId) => new(SensorHubErrors.UnknownSession, $"sessionId: no session '{sessionId}' is known.");

    public static SessionException TooManyOpen(int limit) =>
        new(SensorHubErrors.TooManySessions, $"Too many open sessions: you already own {limit}, the most allowed. End one before creating another.");

    public static SessionException Full(string sessionId, int limit) =>
        new(SensorHubErrors.SessionFull, $"Session '{sessionId}' is full: it already has {limit} participants, the most allowed.");

    public static SessionException SensorNotInSession(string sensorId, string sessionId) =>
        new(SensorHubErrors.InvalidArgument, $"input.sensorId: sensor '{sensorId}' is not one of the sensors of session '{sessionId}'.");

    public static SessionException TooManyAnnotations(int limit, TimeSpan period, TimeSpan wait) =>
        new(SensorHubErrors.RateLimited,
            $"Too many annotations: at most {limit} per {period.TotalSeconds:0.###} s are allowed in one session; {SensorHubErrors.RetryAfterText(wait)}");

    public static SessionException FellBehind(string sessionId, int capacity) =>
        new(SensorHubErrors.FellBehind, $"This stream fell behind session '{sessionId}': more than {capacity} events were waiting to be sent. " +
            "Join again for a fresh snapshot.");

    /// <summary>A stream of a distributed store whose node could not get some of the session's events any more (they were trimmed, or the node was cut off): it ends rather than skip them.</summary>
    public static SessionException Missed(string sessionId) =>
        new(SensorHubErrors.FellBehind, $"This stream fell behind session '{sessionId}': some of its events could no longer be sent. Join again for a fresh snapshot.");
}
