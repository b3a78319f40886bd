using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// A <c>mosquitto</c> broker of the test's own (Debian's, 2.0) on a free loopback port, with a configuration file in a
/// temporary folder (a listener, anonymous clients allowed, persistence when asked so that a restart keeps sessions
/// and their queued messages), stopped by its pid. Tests keep apart by topics of their own (<see cref="NewTopicRoot"/>).
/// </summary>
public sealed class MosquittoServer : IAsyncDisposable
{
    private readonly LocalDaemon _daemon = new(Executable, "mosquitto");
    private readonly bool _persistence;

    private MosquittoServer(bool persistence) => _persistence = persistence;

    public int Port => _daemon.Port;

    public int Pid => _daemon.Pid;

    /// <summary>A topic root no other test uses: <c>t&lt;12 hex digits&gt;</c>.</summary>
    public static string NewTopicRoot() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The broker's program: on the PATH, or Debian's <c>/usr/sbin/mosquitto</c> (not on a non-root PATH).</summary>
    public static string Executable =>
        File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

    /// <summary>Starts one and returns once it accepts an MQTT connection.</summary>
    /// <param name="persistence">Whether sessions and their messages outlive a restart (<see cref="RestartAsync"/>).</param>
    public static async Task<MosquittoServer> StartAsync(bool persistence = false)
    {
        var server = new MosquittoServer(persistence);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Stops it hard (SIGKILL, as a crash) and leaves it stopped; <see cref="StartAgainAsync"/> ends the outage.</summary>
    public void Stop() => _daemon.Kill();

    /// <summary>Starts it again on the same port and folder after <see cref="Stop"/>.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <summary>
    /// A clean stop (SIGTERM: mosquitto writes its persistence file on the way out) and a start on the same port and
    /// folder. Mosquitto saves to disk only on exit or on an autosave interval, so a crash would lose what it queued.
    /// </summary>
    public async Task RestartAsync()
    {
        await _daemon.TerminateAsync(Timeouts.Default);
        await StartProcessAsync();
    }

    /// <summary>A started MQTT 5 client of the test's own, to publish with.</summary>
    public async Task<IMqttClient> ConnectClientAsync(string? clientId = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId ?? "test-" + Guid.NewGuid().ToString("N")[..12])
            .WithTimeout(Timeouts.Default)
            .Build();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await client.ConnectAsync(options, cts.Token);
        return client;
    }

    private async Task StartProcessAsync()
    {
        var config = Path.Combine(_daemon.Folder, "mosquitto.conf");
        var lines = new List<string>
        {
            $"listener {Port} 127.0.0.1",
            "allow_anonymous true",
            // Enough for a test that publishes while SensorHub is away; mosquitto's default is 1,000 per session.
            "max_queued_messages 100000",
            "log_dest none",
        };
        if (_persistence)
        {
            lines.Add("persistence true");
            lines.Add($"persistence_location {_daemon.Folder}/");
        }
        await File.WriteAllLinesAsync(config, lines);
        _daemon.Start(["-c", config]);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var probe = await ConnectClientAsync();
                await probe.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !_daemon.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _daemon.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Publishing from a test's MQTT client.</summary>
public static class MqttPublishing
{
    /// <summary>Publishes <paramref name="payload"/> at QoS 1 and waits for the broker's PUBACK.</summary>
    public static async Task PublishAsync(this IMqttClient client, string topic, string payload)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await client.PublishAsync(message, cts.Token);
    }
}
