using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Identity;

/// <summary>
/// The hub's door authenticates by itself (not through <c>UseAuthentication</c>), so it must still run a deployment's
/// <see cref="IClaimsTransformation"/> before it keeps only the claims SensorHub reads: an Authority whose tokens say
/// <c>roles</c> where SensorHub reads <c>role</c> is mapped that way.
/// </summary>
public sealed class ClaimsTransformationTests
{
    [Theory]
    [InlineData(Protocol.Json)]
    [InlineData(Protocol.MessagePack)]
    public async Task ATransformationRunsBeforeTheCallerIsRead(Protocol protocol)
    {
        await using var app = new SensorHubApplication { TestServices = services => services.AddSingleton<IClaimsTransformation, RolesToRole>() };
        await using var connection = await app.ConnectWithTokenAsync(protocol, app.MintToken(AuthorityClaims(), TimeSpan.FromHours(1)));

        var page = await connection.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, null).WaitAsync(Timeouts.Default);

        Assert.NotNull(page);
    }

    [Fact]
    public async Task WithoutTheTransformationTheSameTokenHasNoRole()
    {
        await using var app = new SensorHubApplication();
        await using var connection = await app.ConnectWithTokenAsync(Protocol.Json, app.MintToken(AuthorityClaims(), TimeSpan.FromHours(1)));

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, null).WaitAsync(Timeouts.Default));

        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(refused.Message));
    }

    private static Claim[] AuthorityClaims() => [new("sub", "carol"), new("name", "Carol"), new("roles", Roles.Viewer)];

    /// <summary>Maps an Authority's <c>roles</c> claims to SensorHub's <c>role</c>.</summary>
    private sealed class RolesToRole : IClaimsTransformation
    {
        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
        {
            var identity = new ClaimsIdentity(principal.Identity!.AuthenticationType, SensorHubUser.NameClaim, SensorHubUser.RoleClaim);
            identity.AddClaims(principal.Claims.Select(c => c.Type == "roles" ? new Claim(SensorHubUser.RoleClaim, c.Value) : new Claim(c.Type, c.Value)));
            return Task.FromResult(new ClaimsPrincipal(identity));
        }
    }
}
