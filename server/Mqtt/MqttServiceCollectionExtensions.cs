using Microsoft.Extensions.Options;

namespace SensorHub.Server.Mqtt;

/// <summary>Registers the MQTT ingest.</summary>
public static class MqttServiceCollectionExtensions
{
    /// <summary>
    /// The MQTT ingest (<see cref="MqttIngestOptions"/>, validated at start) and its instruments. Always registered; it
    /// connects only where <c>SensorHub:Mqtt:Topics</c> lists a filter. Registered after the telemetry, so that the
    /// zeros it records at start reach the exporters.
    /// </summary>
    public static IServiceCollection AddSensorHubMqtt(this IServiceCollection services)
    {
        services.AddOptions<MqttIngestOptions>().BindConfiguration(MqttIngestOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MqttIngestOptions>, MqttIngestOptionsValidator>();
        services.AddSingleton<MqttIngestMetrics>();
        services.AddHostedService<MqttIngestService>();
        return services;
    }
}
