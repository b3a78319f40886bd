using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SensorHub.Server.Identity;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>A token the fuzz connects with, and whether the server must let it in (else: 401).</summary>
/// <param name="Token">The token; <see langword="null"/> for none at all.</param>
/// <param name="Accepted">Whether the upgrade must succeed.</param>
/// <param name="Kind">What kind of token it is, for the report.</param>
internal sealed record FuzzToken(string? Token, bool Accepted, string Kind);

/// <summary>
/// Tokens of every kind: none (a guest, where anonymous access is on), garbage, signed with another key, tampered,
/// unsigned, expired (long ago and within the clock skew), not yet valid, for another audience or issuer, without a
/// subject, with odd roles and odd sensor prefixes, short-lived, and plain valid ones of each role.
/// </summary>
internal static class FuzzTokens
{
    private static readonly string[] s_oddRoles = ["Admin", "ADMIN", " admin", "superuser", "", "viewer,admin", "role", "\u0000", "operator\n"];

    private static readonly string[] s_oddPrefixes = ["", "/", "*", "fuzz", "fuzz/a", "FUZZ/", "../", "fuzz/\u0000", "é/", new string('p', 100)];

    /// <summary>
    /// Many roles or prefixes, yet a token that fits in a request line (Kestrel answers a longer one 414, which says
    /// nothing about the hub).
    /// </summary>
    private const int ManyClaims = 30;

    public static FuzzToken Pick(SensorHubApplication app, FuzzValues values)
    {
        var random = values.Random;
        var now = DateTime.UtcNow;
        var user = values.Pick(TestUser.Admin, TestUser.Operator("fuzz-olga"), TestUser.Viewer("fuzz-vera"), TestUser.Device("fuzz-dev"));
        var claims = SensorHubApplication.ClaimsOf(user);
        // One token in three is one the server must refuse: refused connections go no further, the others fuzz the hub.
        return random.Next(30) switch
        {
            0 => new FuzzToken(null, AnonymousAllowed(app), "none"),
            1 => new FuzzToken("", false, "empty"),
            2 => new FuzzToken(values.Pick("garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", Convert.ToBase64String(values.Bytes(48))), false, "garbage"),
            3 => new FuzzToken(Mint(app, claims, now, TimeSpan.FromHours(1), credentials: OtherKey()), false, "signed with another key"),
            4 => new FuzzToken(Tamper(app.MintToken(claims, TimeSpan.FromHours(1))), false, "tampered"),
            5 => new FuzzToken(Unsigned(claims), false, "unsigned (alg none)"),
            6 => new FuzzToken(app.MintToken(claims, TimeSpan.FromMinutes(5), now.AddHours(-2)), false, "expired long ago"),
            7 => new FuzzToken(app.MintToken(claims, TimeSpan.FromSeconds(50), now.AddSeconds(-60)), false, "expired within the clock skew"),
            8 => new FuzzToken(app.MintToken(claims, TimeSpan.FromHours(1), now.AddHours(1)), false, "not yet valid"),
            9 => new FuzzToken(Mint(app, claims, now, TimeSpan.FromHours(1), audience: "someone-else"), false, "another audience"),
            10 => new FuzzToken(Mint(app, claims, now, TimeSpan.FromHours(1), issuer: "someone-else"), false, "another issuer"),
            11 => new FuzzToken(app.MintToken(SensorHubApplication.ClaimsOf(user, withSubject: false), TimeSpan.FromHours(1)), true, "without a subject"),
            12 => new FuzzToken(app.MintToken([new Claim(SensorHubUser.NameClaim, "fuzz-bare")], TimeSpan.FromHours(1)), true, "without a subject or a role"),
            13 => new FuzzToken(app.MintToken(OddRoles(values, claims), TimeSpan.FromHours(1)), true, "odd roles"),
            14 => new FuzzToken(app.MintToken(OddPrefixes(values, claims), TimeSpan.FromHours(1)), true, "odd sensor prefixes"),
            // Closed by the server during the round (CloseOnAuthenticationExpiration), or refused if it is already past.
            15 => new FuzzToken(app.MintToken(claims, TimeSpan.FromSeconds(2)), true, "short-lived"),
            _ => new FuzzToken(app.MintToken(claims, TimeSpan.FromHours(1)), true, $"valid {string.Join('+', user.Roles)}"),
        };
    }

    private static bool AnonymousAllowed(SensorHubApplication app) =>
        app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.AllowAnonymous;

    private static List<Claim> OddRoles(FuzzValues values, List<Claim> claims)
    {
        var odd = claims.Where(c => c.Type != SensorHubUser.RoleClaim).ToList();
        var count = values.Random.Next(0, 4) == 0 ? ManyClaims : values.Random.Next(1, 4);
        for (var i = 0; i < count; i++)
            odd.Add(new Claim(SensorHubUser.RoleClaim, values.Pick(s_oddRoles)));
        return odd;
    }

    private static List<Claim> OddPrefixes(FuzzValues values, List<Claim> claims)
    {
        var odd = claims.Where(c => c.Type != SensorHubUser.SensorsClaim).ToList();
        var count = values.Random.Next(0, 4) == 0 ? ManyClaims : values.Random.Next(1, 4);
        for (var i = 0; i < count; i++)
            odd.Add(new Claim(SensorHubUser.SensorsClaim, values.Pick(s_oddPrefixes)));
        return odd;
    }

    private static SigningCredentials OtherKey() =>
        new(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256);

    private static string Mint(
        SensorHubApplication app, List<Claim> claims, DateTime now, TimeSpan lifetime,
        SigningCredentials? credentials = null, string? issuer = null, string? audience = null)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = issuer ?? auth.Issuer,
            Audience = audience ?? auth.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = credentials ?? app.Services.GetRequiredService<SigningKey>().Credentials,
        });
    }

    /// <summary>A valid token with one character of its payload changed, so that its signature no longer fits.</summary>
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = parts[1].ToCharArray();
        var at = payload.Length / 2;
        payload[at] = payload[at] == 'A' ? 'B' : 'A';
        parts[1] = new string(payload);
        return string.Join('.', parts);
    }

    /// <summary>A token that says it needs no signature.</summary>
    private static string Unsigned(List<Claim> claims)
    {
        static string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var payload = "{" + string.Join(',', claims.Select(c => $"\"{c.Type}\":\"{c.Value}\"")) +
                      $",\"exp\":{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()},\"iss\":\"sensorhub\",\"aud\":\"sensorhub\"}}";
        return $"{Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{Encode(payload)}.";
    }
}
