using System.Security.Claims;
using SensorHub.Server.Identity;

namespace SensorHub.Tests.Identity;

/// <summary>
/// A connection keeps the compact principal for as long as it lives: it must carry exactly what SensorHub reads from
/// a token, and read as the same caller as the token's full principal.
/// </summary>
public sealed class CompactPrincipalTests
{
    [Fact]
    public void KeepsSubjectNameRolesAndPrefixesAndDropsTheRest()
    {
        var full = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim("sub", "u-1", ClaimValueTypes.String, "issuer-x"),
                new Claim("name", "Ada"),
                new Claim("role", Roles.Viewer),
                new Claim("role", Roles.Device),
                new Claim("sensors", "plant-1/"),
                new Claim("sensors", "plant-2/"),
                new Claim("iat", "1700000000"),
                new Claim("exp", "1700003600"),
                new Claim("jti", "abc"),
                new Claim("aud", "sensorhub"),
            ],
            "AuthenticationTypes.Federation",
            "name",
            "role"));

        var compact = SensorHubUser.Compact(full);

        Assert.Equal(
            ["sub=u-1", "name=Ada", "role=viewer", "role=device", "sensors=plant-1/", "sensors=plant-2/"],
            compact.Claims.Select(c => $"{c.Type}={c.Value}"));
        Assert.Equal("AuthenticationTypes.Federation", compact.Identity!.AuthenticationType);
        Assert.True(compact.Identity.IsAuthenticated);
        Assert.Equal("Ada", compact.Identity.Name);
        Assert.True(compact.IsInRole(Roles.Device));

        var fromFull = SensorHubUser.From(full);
        var fromCompact = SensorHubUser.From(compact);
        Assert.Equal(fromFull.Id, fromCompact.Id);
        Assert.Equal(fromFull.Name, fromCompact.Name);
        Assert.Equal(fromFull.Roles.Order(), fromCompact.Roles.Order());
        Assert.Equal(fromFull.SensorPrefixes, fromCompact.SensorPrefixes);
        Assert.True(fromCompact.Has(Permission.Publish));
        Assert.False(fromCompact.IsAdmin);
    }

    [Fact]
    public void ATokenWithoutSubjectStaysWithoutOne()
    {
        var full = new ClaimsPrincipal(new ClaimsIdentity([new Claim("role", Roles.Admin), new Claim("scope", "x")], "Bearer", "name", "role"));

        var user = SensorHubUser.From(SensorHubUser.Compact(full));

        Assert.Null(user.Id);
        Assert.True(user.IsAdmin);
        Assert.Single(SensorHubUser.Compact(full).Claims);
    }
}
