using Microsoft.Extensions.Options;

namespace SensorHub.Server.Telemetry;

/// <summary>Where SensorHub's metrics and traces go (section <c>SensorHub:Telemetry</c>). Read once, at start.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "SensorHub:Telemetry";

    /// <summary>
    /// The standard OpenTelemetry setting (an environment variable, or any configuration key of that name) whose
    /// presence turns the OTLP exporter on, for metrics and traces. Its other standard settings
    /// (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>_HEADERS</c>, <c>OTEL_SERVICE_NAME</c>, …) apply as OpenTelemetry documents them.
    /// </summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Serve <c>GET /metrics</c> in Prometheus's text format. Default <see langword="false"/>;
    /// <c>appsettings.Development.json</c> turns it on. The endpoint is open (no token): see <c>docs/operations.md</c>.
    /// </summary>
    public bool Prometheus { get; set; }

    /// <summary>Whether <see cref="OtlpEndpointSetting"/> is set in <paramref name="configuration"/>.</summary>
    public static bool OtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
}

/// <summary>
/// Fails the start when <see cref="TelemetryOptions.OtlpEndpointSetting"/> is set but is no absolute http(s) address:
/// the exporter would otherwise drop every export quietly.
/// </summary>
internal sealed class TelemetryOptionsValidator(IConfiguration configuration) : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var endpoint = configuration[TelemetryOptions.OtlpEndpointSetting];
        if (string.IsNullOrWhiteSpace(endpoint))
            return ValidateOptionsResult.Success;
        return Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{TelemetryOptions.OtlpEndpointSetting} must be an absolute http:// or https:// address; it is '{endpoint}'.");
    }
}
