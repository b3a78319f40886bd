using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary>Points JwtBearer at the configured authority or at the server's own key, and at the hub's query-string token.</summary>
internal sealed class JwtBearerSetup(IOptions<AuthOptions> options, SigningKey key) : IConfigureNamedOptions<JwtBearerOptions>
{
    public void Configure(string? name, JwtBearerOptions bearer)
    {
        var auth = options.Value;
        bearer.MapInboundClaims = false;
        // Nothing reads the token back from the authentication properties, which live as long as the connection.
        bearer.SaveToken = false;
        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = auth.Issuer,
            ValidAudience = auth.Audience,
            NameClaimType = SensorHubUser.NameClaim,
            RoleClaimType = SensorHubUser.RoleClaim,
            ClockSkew = TimeSpan.FromSeconds(30),
        };
        if (auth.Authority is { } authority)
        {
            bearer.Authority = authority;
            bearer.Audience = auth.Audience;
        }
        else
        {
            bearer.TokenValidationParameters.IssuerSigningKey = key.Key;
        }

        bearer.Events = new JwtBearerEvents
        {
            // Browsers cannot set headers on WebSockets and server-sent events: SignalR sends the token in the query.
            OnMessageReceived = context =>
            {
                if (string.IsNullOrEmpty(context.Token)
                    && context.HttpContext.Request.Path.StartsWithSegments(SensorHubRoutes.Hub)
                    && context.Request.Query.TryGetValue("access_token", out var token))
                {
                    context.Token = token;
                }
                return Task.CompletedTask;
            },
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);
}
