using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary><c>POST /api/dev/token</c>: a signed token for whoever asks, for local use and tests only.</summary>
internal static class DevTokenEndpoint
{
    public static IResult Issue(DevTokenRequest? request, SigningKey key, IOptions<AuthOptions> options, TimeProvider time)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 64 || request.Name.Any(char.IsControl))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["A name of 1 to 64 characters is required."] });
        if (request.Roles is not { Length: > 0 } roles || roles.Except(Roles.All, StringComparer.Ordinal).Any())
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["roles"] = [$"One or more of {string.Join(", ", Roles.All)} are required."] });
        if (request.Sensors is { } prefixes && prefixes.Any(string.IsNullOrEmpty))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["sensors"] = ["A sensor prefix may not be empty."] });

        // The name is the subject too: in Development a name is who one is, and inviting "alice" means alice's token.
        var claims = new List<Claim> { new(SensorHubUser.SubjectClaim, request.Name), new(SensorHubUser.NameClaim, request.Name) };
        claims.AddRange(roles.Distinct(StringComparer.Ordinal).Select(role => new Claim(SensorHubUser.RoleClaim, role)));
        claims.AddRange((request.Sensors ?? []).Select(prefix => new Claim(SensorHubUser.SensorsClaim, prefix)));
        var now = time.GetUtcNow().UtcDateTime;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + options.Value.DevTokenLifetime,
            SigningCredentials = key.Credentials,
        });
        return Results.Ok(new DevTokenResponse { AccessToken = token });
    }
}
