using System.Security.Claims;

namespace SensorHub.Server.Identity;

/// <summary>
/// Who is calling, read from the connection's claims: a name, roles, and the sensor-id prefixes the token bounds it
/// to (none: every sensor). Anonymous callers, where allowed, are viewers named <c>guest-…</c>.
/// </summary>
public sealed class SensorHubUser
{
    /// <summary>The claim that carries the user's name.</summary>
    public const string NameClaim = "name";

    /// <summary>The claim that carries a role (one claim per role).</summary>
    public const string RoleClaim = "role";

    /// <summary>The claim that carries a sensor-id prefix (one claim per prefix).</summary>
    public const string SensorsClaim = "sensors";

    /// <summary>Marks the principal given to an anonymous caller.</summary>
    public const string AnonymousAuthenticationType = "SensorHub.Anonymous";

    private readonly HashSet<string> _roles;

    public SensorHubUser(string name, IEnumerable<string> roles, IReadOnlyList<string>? sensorPrefixes, bool isAnonymous = false)
    {
        Name = name;
        _roles = new HashSet<string>(roles, StringComparer.Ordinal);
        SensorPrefixes = sensorPrefixes;
        IsAnonymous = isAnonymous;
    }

    public string Name { get; }

    public IReadOnlyCollection<string> Roles => _roles;

    /// <summary>The prefixes of the sensor ids it may read and publish; <see langword="null"/> for every sensor.</summary>
    public IReadOnlyList<string>? SensorPrefixes { get; }

    public bool IsAnonymous { get; }

    public bool IsAdmin => _roles.Contains(Identity.Roles.Admin);

    /// <summary>Whether any of its roles grants <paramref name="permission"/>.</summary>
    public bool Has(Permission permission) => Identity.Roles.Granting(permission).Any(_roles.Contains);

    /// <summary>Whether its sensor prefixes cover <paramref name="sensorId"/>.</summary>
    /// <remarks>An indexed loop, allocating nothing: this runs for every reading a device publishes and every CSV row.</remarks>
    public bool Covers(string sensorId)
    {
        if (SensorPrefixes is not { } prefixes)
            return true;
        for (var i = 0; i < prefixes.Count; i++)
        {
            if (sensorId.StartsWith(prefixes[i], StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public bool MayRead(string sensorId) => Has(Permission.Read) && Covers(sensorId);

    public bool MayPublish(string sensorId) => Has(Permission.Publish) && Covers(sensorId);

    /// <summary>The user behind a connection's principal.</summary>
    public static SensorHubUser From(ClaimsPrincipal? principal)
    {
        var identity = principal?.Identity;
        if (principal is null || identity is null || !identity.IsAuthenticated)
            return new SensorHubUser("nobody", [], [], isAnonymous: true);
        var prefixes = principal.FindAll(SensorsClaim).Select(c => c.Value).ToArray();
        return new SensorHubUser(
            principal.FindFirst(NameClaim)?.Value ?? "unknown",
            principal.FindAll(RoleClaim).Select(c => c.Value),
            prefixes.Length == 0 ? null : prefixes,
            identity.AuthenticationType == AnonymousAuthenticationType);
    }
}
