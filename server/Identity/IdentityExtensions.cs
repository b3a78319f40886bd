using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Identity;

/// <summary>Registers and maps SensorHub's identity: JWT bearer tokens, guests where allowed, and dev tokens where on.</summary>
internal static class IdentityExtensions
{
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

        app.UseAuthentication();
        app.UseMiddleware<HubAccessMiddleware>();
        if (options.DevTokens)
        {
            IdentityLog.DevTokensOn(logger);
            app.MapPost(SensorHubRoutes.DevToken, DevTokenEndpoint.Issue);
        }
        return app;
    }
}
