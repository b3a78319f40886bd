using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features.Authentication;
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
internal sealed class HubAccessMiddleware(
    RequestDelegate next,
    IOptions<AuthOptions> options,
    IAuthenticationSchemeProvider schemes,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<HubAccessMiddleware> logger)
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
        var authenticating = AuthenticateAsync(context);
        // With the server's own key JwtBearer validates without waiting, and then nothing of this middleware stays on
        // the stack of the request (a WebSocket request lasts as long as its connection): no async method here.
        return authenticating.IsCompletedSuccessfully ? Admit(context, authenticating.Result) : AwaitThenAdmitAsync(context, authenticating);
    }

    private async Task AwaitThenAdmitAsync(HttpContext context, Task<AuthenticateResult> authenticating) =>
        await Admit(context, await authenticating);

    /// <summary>
    /// Authenticates a guarded request with the default scheme in a service scope of its own, disposed once done,
    /// instead of through <c>UseAuthentication</c> (which <see cref="IdentityExtensions"/> leaves out): the
    /// authentication service, the handler and the request's service scope would otherwise live as long as the
    /// connection, about 1.1 KB in all (dotnet-gcdump of 1,000 idle connections). What stays is a compact principal
    /// (<see cref="SensorHubUser.Compact"/>, after any <see cref="IClaimsTransformation"/>) and a result that carries
    /// only the token's expiry.
    /// </summary>
    private async Task<AuthenticateResult> AuthenticateAsync(HttpContext context)
    {
        var scheme = await schemes.GetDefaultAuthenticateSchemeAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException("No authentication scheme is registered.");
        await using var scope = scopes.CreateAsyncScope();
        var handlers = scope.ServiceProvider.GetRequiredService<IAuthenticationHandlerProvider>();
        var handler = await handlers.GetHandlerAsync(context, scheme.Name).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"No handler for the authentication scheme {scheme.Name}.");
        var result = await handler.AuthenticateAsync().ConfigureAwait(false);
        if (!result.Succeeded)
            return result;
        // As the authentication service would: a deployment's claims transformation (an Authority's "roles" mapped to
        // "role", say) runs before SensorHub reads the claims.
        var transformation = scope.ServiceProvider.GetRequiredService<IClaimsTransformation>();
        var principal = await transformation.TransformAsync(result.Principal!).ConfigureAwait(false);
        // The principal lives as long as the connection (HttpContext.User, HubCallerContext.User). JwtBearer's holds
        // every claim of the token with its issuer strings, and the parsed JsonWebToken itself (through
        // CaseSensitiveClaimsIdentity.SecurityToken): about 4 KB per connection (dotnet-gcdump, 1,000 idle
        // connections). SensorHub reads four claim types; the rest is dropped here.
        var properties = new AuthenticationProperties { ExpiresUtc = result.Properties?.ExpiresUtc };
        return AuthenticateResult.Success(new AuthenticationTicket(SensorHubUser.Compact(principal), properties, scheme.Name));
    }

    private Task Admit(HttpContext context, AuthenticateResult result)
    {
        if (result.Succeeded)
        {
            context.User = result.Principal!;
            // SignalR reads the expiry from here (CloseOnAuthenticationExpiration), as UseAuthentication would have set it.
            context.Features.Set<IAuthenticateResultFeature>(new AuthenticatedRequest(result));
            if (result.Properties?.ExpiresUtc is { } at && at <= time.GetUtcNow())
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

/// <summary>What <see cref="HubAccessMiddleware"/> authenticated, where <c>UseAuthentication</c> would have put it.</summary>
internal sealed class AuthenticatedRequest(AuthenticateResult result) : IAuthenticateResultFeature
{
    public AuthenticateResult? AuthenticateResult { get; set; } = result;
}
