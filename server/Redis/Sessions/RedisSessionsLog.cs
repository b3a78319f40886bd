namespace SensorHub.Server.Redis.Sessions;

/// <summary>Log entries of the Redis session store (8200–8289; the node registry takes 8290–8299).</summary>
internal static partial class RedisSessionsLog
{
    [LoggerMessage(8201, LogLevel.Warning, "Catching up session {SessionId} from its event stream failed; the next position check tries again: {Error}")]
    public static partial void CatchUpFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(8202, LogLevel.Warning, "Session {SessionId}'s events {From} to {To} are no longer in its event stream: this node's {Members} streams on it end, to join again.")]
    public static partial void Missed(ILogger logger, string sessionId, long from, long to, int members);

    [LoggerMessage(8203, LogLevel.Warning, "A member of session {SessionId} could not leave in Redis; this node tries again: {Error}")]
    public static partial void LeaveFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(8204, LogLevel.Information, "Node {NodeId} is dead: its member {MemberId} left session {SessionId}.")]
    public static partial void DeadMemberLeft(ILogger logger, string nodeId, string memberId, string sessionId);

    [LoggerMessage(8205, LogLevel.Error, "A session event could not be handled on session {SessionId}.")]
    public static partial void EventFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(8206, LogLevel.Warning, "The position check of the sessions failed; the next one tries again: {Error}")]
    public static partial void CheckFailed(ILogger logger, string error);
}
