namespace SensorHub.Server.Identity;

internal static partial class IdentityLog
{
    [LoggerMessage(6001, LogLevel.Warning, "No SensorHub:Auth:SigningKey or Authority is configured: tokens are signed with a random key that ends with this process.")]
    public static partial void EphemeralKey(ILogger logger);

    [LoggerMessage(6002, LogLevel.Warning, "Dev tokens are on: POST /api/dev/token gives any role to anyone who asks.")]
    public static partial void DevTokensOn(ILogger logger);

    // Debug: a client that reconnects with the same expired token shows up here, once per attempt.
    [LoggerMessage(6101, LogLevel.Debug, "{Method} {Path} refused with 401: its token expired at {ExpiresUtc:o}.")]
    public static partial void TokenExpired(ILogger logger, string method, PathString path, DateTimeOffset expiresUtc);

    [LoggerMessage(6102, LogLevel.Debug, "{Method} {Path} refused with 401: {Reason}.")]
    public static partial void Refused(ILogger logger, string method, PathString path, string reason);
}
