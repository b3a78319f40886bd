namespace SensorHub.Contracts;

/// <summary>The body of <c>POST /api/dev/token</c>, where the server offers dev tokens.</summary>
public sealed record DevTokenRequest
{
    /// <summary>The user's name, as others see it in sessions.</summary>
    public string Name { get; init; } = "";

    /// <summary>Its roles: <c>viewer</c>, <c>operator</c>, <c>device</c>, <c>admin</c>.</summary>
    public string[] Roles { get; init; } = [];

    /// <summary>The sensor-id prefixes it may read and publish; <see langword="null"/> for every sensor.</summary>
    public string[]? Sensors { get; init; }
}

/// <summary>The answer of <c>POST /api/dev/token</c>.</summary>
public sealed record DevTokenResponse
{
    /// <summary>A bearer token; SignalR clients pass it through their access-token provider.</summary>
    public string AccessToken { get; init; } = "";
}
