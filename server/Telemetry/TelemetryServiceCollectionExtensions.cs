using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SensorHub.Contracts;

namespace SensorHub.Server.Telemetry;

/// <summary>Exports SensorHub's metrics (and traces) through OpenTelemetry: a Prometheus scrape endpoint, OTLP, or both.</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// The meters exported besides SensorHub's own. ASP.NET Core's: requests (<c>http.server.*</c>), Kestrel's
    /// connections (<c>kestrel.*</c>), and SignalR's connections (<c>signalr.server.*</c>, which .NET 10 publishes on
    /// the Http.Connections meter: SignalR has no meter of its own). The runtime's (<c>dotnet.*</c>) are added by the
    /// runtime instrumentation.
    /// </summary>
    public static readonly IReadOnlyList<string> AspNetCoreMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
    ];

    /// <summary>
    /// Metrics of the <see cref="SensorHubTelemetry.MeterName"/> meter, ASP.NET Core's and the runtime's, exported to
    /// Prometheus when <see cref="TelemetryOptions.Prometheus"/> is on and over OTLP when
    /// <see cref="TelemetryOptions.OtlpEndpointSetting"/> is set; traces (SensorHub's activities, SignalR's hub
    /// invocations, ASP.NET Core's requests) over OTLP only. With neither, nothing is registered and the instruments
    /// cost only what an instrument without a listener costs. Both switches are read once, here, from the builder's
    /// configuration (environment variables included).
    /// </summary>
    public static WebApplicationBuilder AddSensorHubTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();

        var prometheus = builder.Configuration.GetSection(TelemetryOptions.Section).GetValue<bool>(nameof(TelemetryOptions.Prometheus));
        var otlp = TelemetryOptions.OtlpConfigured(builder.Configuration);
        services.AddSingleton(new TelemetryExport(prometheus, otlp));
        if (!prometheus && !otlp)
        {
            services.AddHostedService<InstrumentsAtStart>();
            return builder;
        }

        var telemetry = services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) names the node's service when set; the
            // application's name is only the fallback, as the OpenTelemetry SDK's own default would be.
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"])
                    && builder.Configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) != true)
                    resource.AddService(builder.Environment.ApplicationName);
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(SensorHubTelemetry.MeterName).AddMeter([.. AspNetCoreMeters]).AddRuntimeInstrumentation();
                if (prometheus)
                    metrics.AddPrometheusExporter();
                if (otlp)
                    metrics.AddOtlpExporter();
            });
        // Traces have no pull endpoint: without an OTLP collector to send them to, recording them would be waste.
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(SensorHubTelemetry.ActivitySourceName, SensorHubTelemetry.SignalRActivitySourceName)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter());
        }
        services.AddHostedService<InstrumentsAtStart>();
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> (Prometheus text format) when <see cref="TelemetryOptions.Prometheus"/> was on at start;
    /// otherwise nothing is mapped and the path answers 404. Open to anyone: a scraper has no token, and the metrics
    /// name no sensor, user or connection (sensor kinds, methods, protocols and error codes only).
    /// </summary>
    public static IEndpointRouteBuilder MapSensorHubMetrics(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetRequiredService<TelemetryExport>().Prometheus)
            endpoints.MapPrometheusScrapingEndpoint(SensorHubRoutes.Metrics);
        return endpoints;
    }
}

/// <summary>Which exporters <see cref="TelemetryServiceCollectionExtensions.AddSensorHubTelemetry"/> turned on.</summary>
/// <param name="Prometheus">The scrape endpoint is served.</param>
/// <param name="Otlp">Metrics and traces go to the OTLP endpoint.</param>
public sealed record TelemetryExport(bool Prometheus, bool Otlp);
