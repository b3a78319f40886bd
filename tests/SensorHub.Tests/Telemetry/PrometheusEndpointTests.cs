using System.Net;
using Microsoft.AspNetCore.Hosting;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// OpenTelemetry's meter provider listens to meters by name, process-wide: in a test process, every server's
/// <c>SensorHub</c> meter reaches every server's <c>/metrics</c>. So these run alone, with no other server's readings
/// and connections in the sums they read.
/// </summary>
[CollectionDefinition(nameof(PrometheusEndpointTests), DisableParallelization = true)]
public sealed class PrometheusEndpointCollection;

/// <summary><c>GET /metrics</c>: Prometheus's text format when <c>SensorHub:Telemetry:Prometheus</c> is on, nothing when it is off.</summary>
[Collection(nameof(PrometheusEndpointTests))]
public sealed class PrometheusEndpointTests
{
    [Fact]
    public async Task MetricsAnswersInPrometheusTextWithSensorHubAndAspNetCoreInstruments()
    {
        // Development turns the endpoint on; Kestrel, because the test server has no kestrel.* metrics.
        await using var app = new SensorHubApplication(Transport.Kestrel);
        await using var connection = await app.ConnectAsync(Protocol.Json);
        await app.Engine.PublishAsync(Sensors.NewId(), 2);
        // The hub counts a connection once its OnConnectedAsync has run, which is after the client's handshake ended.
        await Timeouts.WaitUntilAsync(() => app.Activity.Connections == 1, Timeouts.Default, "the connection counted");
        using var client = app.CreateHttpClient();
        // A request that completes before the scrape, for http.server.request.duration.
        (await client.GetAsync(SensorHubRoutes.Stats).WaitAsync(Timeouts.Default)).EnsureSuccessStatusCode();

        using var response = await client.GetAsync("/metrics").WaitAsync(Timeouts.Default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE sensorhub_connections_active gauge", text, StringComparison.Ordinal);
        Assert.Contains("sensorhub_connections_active{otel_scope_name=\"SensorHub\",sensorhub_hub_protocol=\"json\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE sensorhub_readings_published_total counter", text, StringComparison.Ordinal);
        Assert.Contains("sensorhub_readings_published_total{otel_scope_name=\"SensorHub\",sensorhub_sensor_kind=\"device\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE kestrel_active_connections gauge", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE signalr_server_active_connections gauge", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScrapeBeforeAnyConnectionShowsTheTaggedSeriesAtZero()
    {
        // A dashboard's node list and absent() alerts need a node's series before its first connection or refusal.
        await using var app = new SensorHubApplication(Transport.Kestrel);
        using var client = app.CreateHttpClient();

        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(Timeouts.Default);

        Assert.Contains("sensorhub_connections_active{otel_scope_name=\"SensorHub\",sensorhub_hub_protocol=\"json\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sensorhub_connections_active{otel_scope_name=\"SensorHub\",sensorhub_hub_protocol=\"messagepack\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sensorhub_streams_active{otel_scope_name=\"SensorHub\",rpc_method=\"Subscribe\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sensorhub_refusals_total{otel_scope_name=\"SensorHub\",error_type=\"unknown_sensor\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sensorhub_limits_reached_total{otel_scope_name=\"SensorHub\",error_type=\"too_many_streams\"} 0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("sensorhub_limits_reached_total{otel_scope_name=\"SensorHub\",error_type=\"unknown_sensor\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtelServiceNameNamesTheService()
    {
        await using var app = new SensorHubApplication(environment: "Production");
        await using var named = app.WithWebHostBuilder(host => host
            .UseSetting("SensorHub:Telemetry:Prometheus", "true")
            .UseSetting("OTEL_SERVICE_NAME", "sensorhub-node-a"));
        using var client = named.CreateClient();

        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(Timeouts.Default);

        Assert.Contains("service_name=\"sensorhub-node-a\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsIsOpenWithoutAToken()
    {
        // Production: no guests, so /api/stats wants a token; the scrape does not. A host setting, because the switch
        // is read while the app's builder is made (as OTEL_EXPORTER_OTLP_ENDPOINT and environment variables are).
        await using var app = new SensorHubApplication(environment: "Production");
        await using var scraped = app.WithWebHostBuilder(host => host.UseSetting("SensorHub:Telemetry:Prometheus", "true"));
        using var client = scraped.CreateClient();

        using var stats = await client.GetAsync(SensorHubRoutes.Stats).WaitAsync(Timeouts.Default);
        using var metrics = await client.GetAsync("/metrics").WaitAsync(Timeouts.Default);

        Assert.Equal(HttpStatusCode.Unauthorized, stats.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task MetricsIsNotServedWhenTheSettingIsOff()
    {
        // Outside Development the setting defaults to off.
        await using var app = new SensorHubApplication(environment: "Production");
        using var client = app.CreateHttpClient();

        using var response = await client.GetAsync("/metrics").WaitAsync(Timeouts.Default);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
