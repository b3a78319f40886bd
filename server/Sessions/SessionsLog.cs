namespace SensorHub.Server.Sessions;

internal static partial class SessionsLog
{
    [LoggerMessage(5001, LogLevel.Information, "Session {SessionId} created by {Owner} ({OwnerId}) on {Sensors} sensors (private: {Private}).")]
    public static partial void Created(ILogger logger, string sessionId, string owner, string ownerId, int sensors, bool @private);

    [LoggerMessage(5002, LogLevel.Information, "Session {SessionId} ended by {User}.")]
    public static partial void Ended(ILogger logger, string sessionId, string user);

    [LoggerMessage(5003, LogLevel.Debug, "{User} joined session {SessionId}.")]
    public static partial void Joined(ILogger logger, string user, string sessionId);

    [LoggerMessage(5004, LogLevel.Debug, "{User} left session {SessionId} (cancelled: {Cancelled}).")]
    public static partial void Left(ILogger logger, string user, string sessionId, bool cancelled);

    [LoggerMessage(5005, LogLevel.Warning, "A stream of {User} fell behind session {SessionId} and was ended: {Capacity} events were waiting.")]
    public static partial void FellBehind(ILogger logger, string user, string sessionId, int capacity);

    [LoggerMessage(5006, LogLevel.Debug, "Session {SessionId}'s sensors changed by {User} to {Sensors} sensors.")]
    public static partial void SensorsChanged(ILogger logger, string sessionId, string user, int sensors);

    [LoggerMessage(5007, LogLevel.Information, "Session {SessionId} of {OwnerId} ended: nobody was in it for {IdleTimeout}.")]
    public static partial void EndedIdle(ILogger logger, string sessionId, string ownerId, TimeSpan idleTimeout);

    [LoggerMessage(5008, LogLevel.Information, "A stream of {User} ({UserId}) left session {SessionId}: its token may not read all of the session's new sensors.")]
    public static partial void Evicted(ILogger logger, string user, string userId, string sessionId);

    [LoggerMessage(5009, LogLevel.Error, "Looking for idle sessions failed; the next sweep tries again.")]
    public static partial void SweepFailed(ILogger logger, Exception exception);
}
