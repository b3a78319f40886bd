using System.Security.Claims;

namespace SensorHub.Server.Identity;

/// <summary>
/// Who is calling, read from the connection's claims: an id (the token's subject), a name to show, roles, and the
/// sensor-id prefixes the token bounds it to (none: every sensor). Anonymous callers, where allowed, are viewers with
/// a random subject <c>guest:…</c> and a name <c>guest-…</c>.
/// </summary>
/// <remarks>
/// Ownership (of uploads, sessions) and presence are keyed on <see cref="Id"/>, never on <see cref="Name"/>, which
/// is only shown: two people may share a name, and a token may carry none. The server trusts one issuer at a time
/// (its own key, or one <c>Authority</c>), so the subject alone is unique (RFC 7519 §4.1.2: unique within its issuer).
/// </remarks>
public sealed class SensorHubUser
{
    /// <summary>The claim that carries the user's id (RFC 7519's <c>sub</c>).</summary>
    public const string SubjectClaim = "sub";

    /// <summary>The claim that carries the user's name, shown to others.</summary>
    public const string NameClaim = "name";

    /// <summary>The claim that carries a role (one claim per role).</summary>
    public const string RoleClaim = "role";

    /// <summary>The claim that carries a sensor-id prefix (one claim per prefix).</summary>
    public const string SensorsClaim = "sensors";

    /// <summary>Marks the principal given to an anonymous caller.</summary>
    public const string AnonymousAuthenticationType = "SensorHub.Anonymous";

    // An array, not a set: a token carries one to three roles, and a set costs about 140 bytes more per connection.
    private readonly string[] _roles;

    public SensorHubUser(string? id, string name, IEnumerable<string> roles, IReadOnlyList<string>? sensorPrefixes, bool isAnonymous = false)
    {
        Id = string.IsNullOrEmpty(id) ? null : id;
        Name = name;
        _roles = roles.Distinct(StringComparer.Ordinal).ToArray();
        SensorPrefixes = sensorPrefixes;
        IsAnonymous = isAnonymous;
    }

    /// <summary>
    /// The token's subject (<c>sub</c>), which keys what the user owns and their presence; <see langword="null"/>
    /// when the token carries none: such a caller may read, but not own anything.
    /// </summary>
    public string? Id { get; }

    /// <summary>The name to show: the token's <c>name</c>, else its subject, else <c>unknown</c>. Never an identity.</summary>
    public string Name { get; }

    public IReadOnlyCollection<string> Roles => _roles;

    /// <summary>The prefixes of the sensor ids it may read and publish; <see langword="null"/> for every sensor.</summary>
    public IReadOnlyList<string>? SensorPrefixes { get; }

    public bool IsAnonymous { get; }

    public bool IsAdmin => HasRole(Identity.Roles.Admin);

    /// <summary>Whether this user is the one <paramref name="ownerId"/> names; never true without an <see cref="Id"/>.</summary>
    public bool Is(string? ownerId) => Id is not null && string.Equals(Id, ownerId, StringComparison.Ordinal);

    /// <summary>Whether any of its roles grants <paramref name="permission"/>.</summary>
    public bool Has(Permission permission)
    {
        var granting = Identity.Roles.Granting(permission);
        for (var i = 0; i < granting.Count; i++)
        {
            if (HasRole(granting[i]))
                return true;
        }
        return false;
    }

    private bool HasRole(string role) => Array.IndexOf(_roles, role) >= 0;

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

    /// <summary>
    /// A principal with only the claims SensorHub reads (<see cref="SubjectClaim"/>, <see cref="NameClaim"/>,
    /// <see cref="RoleClaim"/>, <see cref="SensorsClaim"/>), in one plain identity of the same authentication type, so
    /// that a connection holds no more of its token than that. <see cref="From"/> reads the same user from either.
    /// </summary>
    public static ClaimsPrincipal Compact(ClaimsPrincipal principal)
    {
        var kept = new List<Claim>(4);
        foreach (var claim in principal.Claims)
        {
            var type = claim.Type switch
            {
                SubjectClaim => SubjectClaim,
                NameClaim => NameClaim,
                RoleClaim => RoleClaim,
                SensorsClaim => SensorsClaim,
                _ => null,
            };
            // The constant, not the token's own copy of the type's name: one string for every connection.
            if (type is not null)
                kept.Add(new Claim(type, claim.Value));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(kept, principal.Identity?.AuthenticationType, NameClaim, RoleClaim));
    }

    /// <summary>The user behind a connection's principal.</summary>
    public static SensorHubUser From(ClaimsPrincipal? principal)
    {
        var identity = principal?.Identity;
        if (principal is null || identity is null || !identity.IsAuthenticated)
            return new SensorHubUser(null, "nobody", [], [], isAnonymous: true);
        var prefixes = principal.FindAll(SensorsClaim).Select(c => c.Value).ToArray();
        var subject = principal.FindFirst(SubjectClaim)?.Value;
        return new SensorHubUser(
            subject,
            principal.FindFirst(NameClaim)?.Value is { Length: > 0 } name ? name : subject ?? "unknown",
            principal.FindAll(RoleClaim).Select(c => c.Value),
            prefixes.Length == 0 ? null : prefixes,
            identity.AuthenticationType == AnonymousAuthenticationType);
    }
}
