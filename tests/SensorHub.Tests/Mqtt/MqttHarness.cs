using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Mqtt;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Mqtt;

/// <summary>
/// A SensorHub app whose MQTT ingest reads <c>&lt;root&gt;/#</c> of a test's broker (ids without the root, unless a test
/// says otherwise), with a quick reconnect, and a collector of <c>sensorhub.mqtt.messages</c>.
/// </summary>
internal sealed class MqttApp : IAsyncDisposable
{
    private readonly MetricCollector<long> _messages;
    private readonly bool _ownsApp;

    private MqttApp(SensorHubApplication app, bool ownsApp = true)
    {
        App = app;
        _ownsApp = ownsApp;
        _messages = new MetricCollector<long>(
            app.Services.GetRequiredService<IMeterFactory>(), SensorHubTelemetry.MeterName, MqttIngestMetrics.MessagesInstrument);
    }

    public SensorHubApplication App { get; }

    public MqttIngestMetrics Metrics => App.Services.GetRequiredService<MqttIngestMetrics>();

    /// <summary>
    /// Starts an app on <paramref name="broker"/> and waits until its ingest is connected and subscribed.
    /// </summary>
    /// <param name="broker">The broker.</param>
    /// <param name="root">The test's topic root: the app reads <c>root/#</c> and strips <c>root/</c>.</param>
    /// <param name="clientId">The ingest's client id; default one of the root's own.</param>
    /// <param name="settings">More settings, over these.</param>
    public static async Task<MqttApp> StartAsync(
        MosquittoServer broker, string root, string? clientId = null, IDictionary<string, string?>? settings = null)
    {
        var app = new MqttApp(new SensorHubApplication(settings: Settings(broker, root, clientId, settings)));
        await app.WaitConnectedAsync();
        return app;
    }

    /// <summary>An app started elsewhere (a Redis node, which its <c>RedisNodes</c> disposes) with <see cref="Settings"/>.</summary>
    public static async Task<MqttApp> OfAsync(SensorHubApplication node)
    {
        var app = new MqttApp(node, ownsApp: false);
        await app.WaitConnectedAsync();
        return app;
    }

    /// <summary>The settings of <see cref="StartAsync"/>.</summary>
    public static Dictionary<string, string?> Settings(
        MosquittoServer broker, string root, string? clientId = null, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["SensorHub:Mqtt:Host"] = "127.0.0.1",
            ["SensorHub:Mqtt:Port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SensorHub:Mqtt:Topics:0"] = root + "/#",
            ["SensorHub:Mqtt:StripPrefix"] = root + "/",
            ["SensorHub:Mqtt:ClientId"] = clientId ?? "sensorhub-" + root,
            ["SensorHub:Mqtt:ReconnectMinDelay"] = "00:00:00.050",
            ["SensorHub:Mqtt:ReconnectMaxDelay"] = "00:00:00.500",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        return all;
    }

    public Task WaitConnectedAsync() =>
        Timeouts.WaitUntilAsync(() => Metrics.Connected, Timeouts.Default, "the MQTT ingest is connected and subscribed");

    /// <summary>How many messages were counted with <paramref name="outcome"/> (and <paramref name="errorType"/> when given).</summary>
    public long Count(string outcome, string? errorType = null) =>
        _messages.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[SensorHubTelemetry.MqttOutcome], outcome)
                        && (errorType is null || (m.Tags.TryGetValue(SensorHubTelemetry.ErrorType, out var code) && Equals(code, errorType))))
            .Sum(m => m.Value);

    public Task WaitForCountAsync(string outcome, long count) =>
        Timeouts.WaitUntilAsync(() => Count(outcome) >= count, Timeouts.Default, $"{count} MQTT messages {outcome} (has {Count(outcome)})");

    /// <summary>
    /// Waits until the engine knows <paramref name="sensorId"/>, then reads <paramref name="count"/> readings of it over
    /// SignalR from its oldest kept reading on.
    /// </summary>
    public async Task<List<Reading>> ReadAsync(string sensorId, int count)
    {
        await Timeouts.WaitUntilAsync(
            async () => await App.Engine.FindSensorAsync(sensorId, CancellationToken.None) is not null, Timeouts.Default, $"sensor {sensorId} exists");
        await using var connection = await App.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        return await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, count, cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        _messages.Dispose();
        if (_ownsApp)
            await App.DisposeAsync();
    }
}
