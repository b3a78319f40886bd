using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary>Registers and maps SensorHub's identity: JWT bearer tokens, guests where allowed, and dev tokens where on.</summary>
internal static class IdentityExtensions
{
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";
    private const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";

    public static IServiceCollection AddSensorHubIdentity(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<SigningKey>();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, JwtBearerSetup>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        return services;
    }

    public static WebApplication UseSensorHubIdentity(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IdentityExtensions).FullName!);
        if (app.Services.GetRequiredService<SigningKey>().IsEphemeral && options.Authority is null)
            IdentityLog.EphemeralKey(logger);

        // Only the hub and /api/stats need a caller, and HubAccessMiddleware authenticates them in a scope it releases
        // at once (see there). WebApplication would otherwise put UseAuthentication and UseAuthorization at the head of
        // the pipeline, whose async Invoke, service scope and handler stay on every WebSocket request for as long as
        // its connection; these are the keys by which it tells that the app placed them itself (ASP.NET Core's own
        // tests set them so). No endpoint carries authorization metadata: SignalR checks its hub's itself.
        var builder = (IApplicationBuilder)app;
        builder.Properties[AuthenticationMiddlewareSetKey] = true;
        builder.Properties[AuthorizationMiddlewareSetKey] = true;
        app.UseMiddleware<HubAccessMiddleware>();
        if (options.DevTokens)
        {
            IdentityLog.DevTokensOn(logger);
            app.MapPost(SensorHubRoutes.DevToken, DevTokenEndpoint.Issue)
                .WithName("DevToken")
                .WithTags("Identity")
                .WithSummary("A signed token for whoever asks, with the name, roles and sensor prefixes asked for.")
                .WithDescription("Mapped only where SensorHub:Auth:DevTokens is true (Development): for local use and tests.")
                .Produces<DevTokenResponse>()
                .ProducesValidationProblem();
        }
        return app;
    }
}
