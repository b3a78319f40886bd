using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// The OTLP exporter, on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: metrics and traces reach a collector, here a
/// listener of the test's own on 127.0.0.1 that takes OTLP over HTTP (protobuf) and keeps what it is sent.
/// </summary>
public sealed class ExportOtlpTests
{
    [Fact]
    public async Task MetricsAndTracesGoToTheOtlpEndpointWhenItIsSet()
    {
        using var collector = new OtlpListener();
        await using var app = new SensorHubApplication(environment: "Production");
        await using var exporting = app.WithWebHostBuilder(host => host
            .UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Address)
            .UseSetting("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));
        var services = exporting.Services;
        var sensorId = Sensors.NewId();
        var engine = services.GetRequiredService<SensorHub.Server.Feeds.IFeedEngine>();
        await engine.PublishAsync(sensorId, 2);
        // A request: ASP.NET Core's activity, and http.server.request.duration.
        using var client = exporting.CreateClient();
        (await client.GetAsync("/healthz").WaitAsync(Timeouts.Default)).EnsureSuccessStatusCode();

        Assert.True(services.GetRequiredService<MeterProvider>().ForceFlush(10_000), "the metrics were flushed");
        Assert.True(services.GetRequiredService<TracerProvider>().ForceFlush(10_000), "the traces were flushed");

        var metrics = collector.Received("/v1/metrics");
        Assert.Contains("sensorhub.readings.published", metrics, StringComparison.Ordinal);
        Assert.Contains("http.server.request.duration", metrics, StringComparison.Ordinal);
        var traces = collector.Received("/v1/traces");
        Assert.Contains("Microsoft.AspNetCore", traces, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAnOtlpEndpointNothingIsTraced()
    {
        // Development: Prometheus on, OTLP off.
        await using var app = new SensorHubApplication();

        Assert.NotNull(app.Services.GetService<MeterProvider>());
        Assert.Null(app.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task AnOtlpEndpointThatIsNoHttpAddressStopsTheStart()
    {
        await using var app = new SensorHubApplication(environment: "Production");
        await using var misconfigured = app.WithWebHostBuilder(host => host.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"));

        var error = Assert.ThrowsAny<Exception>(() => misconfigured.Services);

        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http:// or https:// address", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Answers 200 to every POST on 127.0.0.1 and keeps each body by path (protobuf keeps names as UTF-8).</summary>
    private sealed class OtlpListener : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentDictionary<string, StringBuilder> _bodies = new(StringComparer.Ordinal);
        private readonly Task _serving;

        public OtlpListener()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Address = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Address + "/");
            _listener.Start();
            _serving = Task.Run(ServeAsync);
        }

        public string Address { get; }

        public string Received(string path)
        {
            if (!_bodies.TryGetValue(path, out var body))
                Assert.Fail($"Nothing was sent to {path}; paths: {string.Join(", ", _bodies.Keys)}");
            lock (body)
                return body.ToString();
        }

        public void Dispose()
        {
            _listener.Close();
            try
            {
                _serving.Wait(Timeouts.Default);
            }
            catch (AggregateException)
            {
            }
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using var read = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(read);
                var body = _bodies.GetOrAdd(context.Request.Url!.AbsolutePath, _ => new StringBuilder());
                lock (body)
                    body.Append(Encoding.UTF8.GetString(read.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }
}
