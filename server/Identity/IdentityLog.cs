namespace SensorHub.Server.Identity;

internal static partial class IdentityLog
{
    [LoggerMessage(6001, LogLevel.Warning, "No SensorHub:Auth:SigningKey or Authority is configured: tokens are signed with a random key that ends with this process.")]
    public static partial void EphemeralKey(ILogger logger);

    [LoggerMessage(6002, LogLevel.Warning, "Dev tokens are on: POST /api/dev/token gives any role to anyone who asks.")]
    public static partial void DevTokensOn(ILogger logger);
}
