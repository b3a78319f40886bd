using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary>
/// The door to the hub. A valid token passes; a token that is present but invalid or expired gets 401 even where
/// anonymous access is on (JwtBearer alone would quietly treat it as anonymous); no token at all passes as a guest
/// viewer where anonymous access is on, and gets 401 where it is off.
/// </summary>
/// <remarks>
/// A token past its <c>exp</c> but within JwtBearer's clock skew also gets 401 here: SignalR would close the
/// connection at its next heartbeat (<c>CloseOnAuthenticationExpiration</c>), and the client would reconnect with
/// the same token again and again until the skew ran out.
/// </remarks>
internal sealed class HubAccessMiddleware(RequestDelegate next, IOptions<AuthOptions> options, TimeProvider time)
{
    /// <summary>How a guest's subject starts; 32 random hexadecimal digits follow.</summary>
    public const string GuestSubjectPrefix = "guest:";

    public Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(SensorHubRoutes.Hub))
            return next(context);
        if (context.User.Identity?.IsAuthenticated == true)
        {
            var expires = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Properties?.ExpiresUtc;
            return expires is { } at && at <= time.GetUtcNow() ? Refuse(context, tokenGiven: true) : next(context);
        }

        var tokenGiven = context.Request.Headers.Authorization.Count > 0 || context.Request.Query.ContainsKey("access_token");
        if (tokenGiven || !options.Value.AllowAnonymous)
            return Refuse(context, tokenGiven);

        // 128 random bits: two guests never share a subject, so they never merge in presence or ownership.
        var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(SensorHubUser.SubjectClaim, $"{GuestSubjectPrefix}{random}"),
                new Claim(SensorHubUser.NameClaim, $"guest-{random[..6]}"),
                new Claim(SensorHubUser.RoleClaim, Roles.Viewer),
            ],
            SensorHubUser.AnonymousAuthenticationType,
            SensorHubUser.NameClaim,
            SensorHubUser.RoleClaim));
        return next(context);
    }

    private static Task Refuse(HttpContext context, bool tokenGiven)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = tokenGiven ? "Bearer error=\"invalid_token\"" : "Bearer";
        return Task.CompletedTask;
    }
}
