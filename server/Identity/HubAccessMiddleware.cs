using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary>
/// The one door to the hub and to <c>/api/stats</c>: a valid token passes; a token that is present but invalid or
/// expired gets 401 even where anonymous access is on (JwtBearer alone would quietly treat it as anonymous); no token
/// at all passes as a guest viewer where anonymous access is on, and gets 401 where it is off.
/// </summary>
/// <remarks>
/// <para>
/// Both paths go through this one rule (<see cref="Guards"/>) so that the hub's door and the counters' door cannot
/// drift apart. It is a middleware rather than an authorization policy because a policy sees only the principal
/// after authentication, where a bad token and no token look alike, and because it is where guests are made.
/// </para>
/// <para>
/// A token past its <c>exp</c> but within JwtBearer's clock skew also gets 401 here: SignalR would close the
/// connection at its next heartbeat (<c>CloseOnAuthenticationExpiration</c>), and the client would reconnect with
/// the same token again and again until the skew ran out. JwtBearer puts the token's <c>exp</c> (without the skew)
/// into <see cref="AuthenticationProperties.ExpiresUtc"/>; SignalR closes the connection by the same value.
/// </para>
/// </remarks>
internal sealed class HubAccessMiddleware(RequestDelegate next, IOptions<AuthOptions> options, TimeProvider time, ILogger<HubAccessMiddleware> logger)
{
    /// <summary>How a guest's subject starts; 32 random hexadecimal digits follow.</summary>
    public const string GuestSubjectPrefix = "guest:";

    /// <summary>Whether a request to <paramref name="path"/> needs a caller: the hub (its negotiate and every transport) and <c>/api/stats</c>.</summary>
    public static bool Guards(PathString path) =>
        path.StartsWithSegments(SensorHubRoutes.Hub) || path.StartsWithSegments(SensorHubRoutes.Stats);

    public Task InvokeAsync(HttpContext context)
    {
        if (!Guards(context.Request.Path))
            return next(context);
        if (context.User.Identity?.IsAuthenticated == true)
        {
            var expires = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Properties?.ExpiresUtc;
            if (expires is { } at && at <= time.GetUtcNow())
            {
                IdentityLog.TokenExpired(logger, context.Request.Method, context.Request.Path, at);
                return Refuse(context, tokenGiven: true);
            }
            return next(context);
        }

        var tokenGiven = context.Request.Headers.Authorization.Count > 0 || context.Request.Query.ContainsKey("access_token");
        if (tokenGiven || !options.Value.AllowAnonymous)
        {
            IdentityLog.Refused(logger, context.Request.Method, context.Request.Path, tokenGiven ? "its token is not valid" : "it has no token and anonymous access is off");
            return Refuse(context, tokenGiven);
        }

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
