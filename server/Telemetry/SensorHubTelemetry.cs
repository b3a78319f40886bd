using System.Diagnostics;

namespace SensorHub.Server.Telemetry;

/// <summary>
/// The names SensorHub's telemetry is found by: its meter, its activity source, and the attribute (tag) names its
/// instruments and activities use. Attribute names follow OpenTelemetry's semantic conventions where one exists
/// (<c>error.type</c>, <c>rpc.method</c>); SensorHub's own are under <c>sensorhub.</c>. Every name here is contract:
/// dashboards and alerts rely on it.
/// </summary>
public static class SensorHubTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> every SensorHub instrument is created on.</summary>
    public const string MeterName = "SensorHub";

    /// <summary>The <see cref="ActivitySource"/> of SensorHub's own activities (uploads); hub invocations are SignalR's (<see cref="SignalRActivitySourceName"/>).</summary>
    public const string ActivitySourceName = "SensorHub";

    /// <summary>SignalR's activity source: one activity per hub invocation, linked to the connection's request.</summary>
    public const string SignalRActivitySourceName = "Microsoft.AspNetCore.SignalR.Server";

    /// <summary>OpenTelemetry's attribute for the class of an error: SensorHub puts its error code here (<see cref="Contracts.SensorHubErrors"/>).</summary>
    public const string ErrorType = "error.type";

    /// <summary>OpenTelemetry's RPC attribute for the method called: the hub method's name, as SignalR's own activity has it.</summary>
    public const string RpcMethod = "rpc.method";

    /// <summary>What a sensor measures (<c>SensorInfo.kind</c>): bounded by the configured sensors plus <c>device</c>; never the sensor id.</summary>
    public const string SensorKind = "sensorhub.sensor.kind";

    /// <summary>A session event's kind (<c>SessionEvent.kind</c>).</summary>
    public const string SessionEventKind = "sensorhub.session.event.kind";

    /// <summary>The hub protocol of a connection: <c>json</c> or <c>messagepack</c>, as SignalR names them (OpenTelemetry defines no attribute for it).</summary>
    public const string HubProtocol = "sensorhub.hub.protocol";

    /// <summary>What became of a message the MQTT ingest took from its broker: <c>published</c>, <c>bad_payload</c>, <c>invalid_sensor_id</c>, <c>rejected</c> or <c>failed</c>.</summary>
    public const string MqttOutcome = "sensorhub.mqtt.outcome";

    /// <summary>SensorHub's own activities (an upload's append); started only when a listener (the OTLP exporter) wants them.</summary>
    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
