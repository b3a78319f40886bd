using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace SensorHub.Bench.Driving;

/// <summary>
/// <c>device --mqtt HOST:PORT --topic T --rate R --seconds S</c>: the device of the MQTT scenario, a process of its own
/// that publishes to a broker instead of the hub, with MQTTnet (MQTT 5, QoS 1, a clean session): one message per
/// reading, its payload a bare number, the reading's value = its <see cref="Stopwatch.GetTimestamp"/> when the client
/// takes it to send (as <see cref="Device"/>'s). Up to <see cref="InFlight"/> messages await their PUBACK at once on
/// each of its connections: one at a set rate (a device), <see cref="FlatOutConnections"/> flat out, since one
/// connection's window of PUBACKs, not the ingest, bounded a flat-out device here (3,700 readings/s). It
/// speaks <see cref="Device"/>'s line protocol (<c>connected</c> after a first message, <c>go</c>, <c>done {…}</c>, stdin
/// closing stops it): <c>accepted</c> counts the messages the broker acknowledged, <c>rejected</c> those it did not.
/// </summary>
internal static class MqttDevice
{
    /// <summary>
    /// Publishes awaiting their PUBACK at once: under mosquitto's receive maximum for a client (its
    /// <c>max_inflight_messages</c>, 20 by default), so that the broker never has to refuse one.
    /// </summary>
    public const int InFlight = 16;

    /// <summary>Broker connections of a flat-out device (rate 0), taken in turn, reading by reading.</summary>
    public const int FlatOutConnections = 4;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Starts an MQTT device process on <paramref name="topic"/>; it is connected once this returns.</summary>
    public static Task<DeviceProcess> LaunchAsync(int brokerPort, string topic, double ratePerSecond, TimeSpan stopAfter) =>
        Device.LaunchAsync(
        [
            "device", "--mqtt", $"127.0.0.1:{brokerPort.ToString(CultureInfo.InvariantCulture)}", "--topic", topic,
            "--rate", ratePerSecond.ToString(CultureInfo.InvariantCulture), "--seconds", stopAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        ]);

    /// <summary>A connected MQTTnet client (MQTT 5, a clean session, a client id of its own).</summary>
    public static async Task<IMqttClient> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"bench-device-{Guid.NewGuid():N}")
            .WithCleanStart()
            .Build();
        try
        {
            await client.ConnectAsync(options, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Publishes <paramref name="value"/> as a bare number at QoS 1; returns whether the broker acknowledged it.</summary>
    public static async Task<bool> PublishAsync(IMqttClient client, string topic, double value, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Encoding.ASCII.GetBytes(value.ToString("R", CultureInfo.InvariantCulture)))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await client.PublishAsync(message, cancellationToken);
        return result.IsSuccess;
    }

    /// <summary>The mode itself: returns the process's exit code (2 for bad arguments, 1 when publishing failed).</summary>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> options)
    {
        var broker = options.GetValueOrDefault("--mqtt", "");
        var colon = broker.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(broker[(colon + 1)..], CultureInfo.InvariantCulture, out var port) || !options.TryGetValue("--topic", out var topic)
            || !Device.TryNumber(options, "--rate", out var rate) || !Device.TryNumber(options, "--seconds", out var seconds))
        {
            await Console.Error.WriteLineAsync("usage: SensorHub.Bench device --mqtt HOST:PORT --topic T --rate R --seconds S");
            return 2;
        }
        var clients = new IMqttClient[rate <= 0 ? FlatOutConnections : 1];
        for (var i = 0; i < clients.Length; i++)
            clients[i] = await ConnectAsync(broker[..colon], port, CancellationToken.None);
        try
        {
            return await RunAsync(clients, topic, rate, seconds);
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }
    }

    private static async Task<int> RunAsync(IMqttClient[] clients, string topic, double rate, double seconds)
    {
        // As the SignalR device: one message first, so that the timed run does not pay for compiling the paths.
        foreach (var client in clients)
            await PublishAsync(client, topic, Stopwatch.GetTimestamp(), CancellationToken.None);
        Console.WriteLine(Device.Connected);
        if (await Console.In.ReadLineAsync() != Device.Go)
            return 0;
        using var stop = new CancellationTokenSource();
        Device.CancelOnStdinClose(stop);

        var pacer = new Device.Pacer(rate, 1, TimeSpan.FromSeconds(seconds));
        var toResult = Stopwatch.StartNew();
        var slots = clients.Select(_ => new SemaphoreSlim(InFlight)).ToArray();
        long acknowledged = 0, refused = 0, next = 0;
        Exception? failure = null;
        async Task SendAsync(IMqttClient client, SemaphoreSlim slot, double value)
        {
            try
            {
                if (await PublishAsync(client, topic, value, CancellationToken.None))
                    Interlocked.Increment(ref acknowledged);
                else
                    Interlocked.Increment(ref refused);
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref refused);
                failure ??= ex;
            }
            finally
            {
                slot.Release();
            }
        }
        try
        {
            await foreach (var due in pacer.DueAsync(stop.Token))
            {
                for (var i = 0; i < due; i++)
                {
                    var k = (int)(next++ % clients.Length);
                    await slots[k].WaitAsync(CancellationToken.None);
                    _ = SendAsync(clients[k], slots[k], Stopwatch.GetTimestamp());
                }
                if (failure is not null)
                    break;
            }
            // Every publish answered: the rest of the slots come back.
            foreach (var slot in slots)
                for (var i = 0; i < InFlight; i++)
                    await slot.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"device: publishing to the broker failed after {pacer.Sent} readings: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        if (failure is not null)
        {
            await Console.Error.WriteLineAsync($"device: publishing to the broker failed after {pacer.Sent} readings: {failure.GetType().Name}: {failure.Message}");
            return 1;
        }
        var done = new DeviceResult(pacer.Sent, acknowledged, refused, pacer.Elapsed.TotalSeconds, toResult.Elapsed.TotalSeconds);
        Console.WriteLine(Device.DonePrefix + JsonSerializer.Serialize(done, s_json));
        foreach (var client in clients)
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
        return 0;
    }
}
