using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
    private readonly string _folder;
    private readonly bool _persistence;
    private Process? _process;

    private MosquittoServer(int port, string folder, bool persistence)
    {
        Port = port;
        _folder = folder;
        _persistence = persistence;
    }

    public int Port { get; }

    public int Pid => _process?.Id ?? 0;

    /// <summary>A topic root no other test uses: <c>t&lt;12 hex digits&gt;</c>.</summary>
    public static string NewTopicRoot() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The broker's program: on the PATH, or Debian's <c>/usr/sbin/mosquitto</c> (not on a non-root PATH).</summary>
    public static string Executable =>
        File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

    /// <summary>Starts one and returns once it accepts an MQTT connection.</summary>
    /// <param name="persistence">Whether sessions and their messages outlive a restart (<see cref="RestartAsync"/>).</param>
    public static async Task<MosquittoServer> StartAsync(bool persistence = false)
    {
        var folder = Path.Combine(Path.GetTempPath(), "sensorhub-tests", "mosquitto-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var server = new MosquittoServer(FreePort(), folder, persistence);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Stops it hard (SIGKILL, as a crash) and leaves it stopped; <see cref="StartAgainAsync"/> ends the outage.</summary>
    public void Stop() => StopProcess();

    /// <summary>Starts it again on the same port and folder after <see cref="Stop"/>.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <summary>
    /// A clean stop (SIGTERM: mosquitto writes its persistence file on the way out) and a start on the same port and
    /// folder. Mosquitto saves to disk only on exit or on an autosave interval, so a crash would lose what it queued.
    /// </summary>
    public async Task RestartAsync()
    {
        if (_process is { HasExited: false } process)
        {
            using (var kill = Process.Start("kill", $"-TERM {process.Id}")!)
                await kill.WaitForExitAsync();
            await process.WaitForExitAsync().WaitAsync(Timeouts.Default);
        }
        StopProcess();
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
        var config = Path.Combine(_folder, "mosquitto.conf");
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
            lines.Add($"persistence_location {_folder}/");
        }
        await File.WriteAllLinesAsync(config, lines);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(config);
        _process = Process.Start(start) ?? throw new InvalidOperationException("mosquitto did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var probe = await ConnectClientAsync();
                await probe.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    private void StopProcess()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        StopProcess();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
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
