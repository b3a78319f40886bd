using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary>
/// The door to the hub. A valid token passes; a token that is present but invalid or expired gets 401 even where
/// anonymous access is on (JwtBearer alone would quietly treat it as anonymous); no token at all passes as a guest
/// viewer where anonymous access is on, and gets 401 where it is off.
/// </summary>
internal sealed class HubAccessMiddleware(RequestDelegate next, IOptions<AuthOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(SensorHubRoutes.Hub) || context.User.Identity?.IsAuthenticated == true)
            return next(context);

        var tokenGiven = context.Request.Headers.Authorization.Count > 0 || context.Request.Query.ContainsKey("access_token");
        if (tokenGiven || !options.Value.AllowAnonymous)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = tokenGiven ? "Bearer error=\"invalid_token\"" : "Bearer";
            return Task.CompletedTask;
        }

        context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(SensorHubUser.NameClaim, $"guest-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}"),
                new Claim(SensorHubUser.RoleClaim, Roles.Viewer),
            ],
            SensorHubUser.AnonymousAuthenticationType,
            SensorHubUser.NameClaim,
            SensorHubUser.RoleClaim));
        return next(context);
    }
}
