using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Bench.Serving;
using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Issue 16's MQTT ingest, measured: a mosquitto of the bench's own (<see cref="MosquittoProcess"/>), a SensorHub
/// (<c>serve sensorhub</c>) whose ingest reads <c>bench/#</c> from it, and a device process that publishes either to the
/// broker (<see cref="MqttDevice"/>, A) or through the hub's <c>Publish</c> (<see cref="Device"/>, B): throughput from
/// one connection into the feeds, and the latency from the device's send to SignalR subscribers.
/// </summary>
internal static class MqttScenario
{
    public const string TopicRoot = "bench/";
    public const string ThroughputPrefix = "mqtt throughput";
    public const string LatencyPrefix = "mqtt latency";

    private static readonly Section s_section = new("MQTT ingest: readings from one broker connection vs the same readings through Publish", "MQTT (QoS 1)", "Publish");

    /// <summary>Why the scenario cannot run here; <see langword="null"/> when it can.</summary>
    public static string? MissingPrerequisite()
    {
        if (typeof(Server.Feeds.FeedOptions).Assembly.GetType("SensorHub.Server.Mqtt.MqttIngestOptions") is null)
            return "this build of the server has no MQTT ingest (server/Mqtt)";
        if (MosquittoProcess.Program() is null)
            return "mosquitto is not installed (apt-get install mosquitto; ./test.sh installs it)";
        return null;
    }

    /// <summary>
    /// Starts the broker and the server, runs the throughput and latency cases through <paramref name="compare"/> (A then
    /// B each round, medians; without <see cref="MqttScenarios.ComparePublish"/> the latency case once through the broker
    /// alone), and stops both. Returns 1 when they could not be started or the lone run failed (listed in the report), else 0.
    /// </summary>
    public static async Task<int> RunAsync(
        Report report, MqttScenarios s, Func<string, bool> selected, Func<Section, string, int, Func<Task<Measure>>, Func<Task<Measure>>, Task> compare)
    {
        var throughputName = $"{ThroughputPrefix}: one device flat out, one reading per message/item, nobody subscribed";
        var latencyName = $"{LatencyPrefix}: {s.Subscribers} .NET subscribers (Subscribe), device at {s.LatencyRate:N0} readings/s";
        var runThroughput = s.Throughput && selected(throughputName);
        if (!runThroughput && !selected(latencyName))
            return 0;

        var clock = Stopwatch.StartNew();
        MosquittoProcess broker;
        BenchTarget server;
        try
        {
            broker = await MosquittoProcess.StartAsync();
        }
        catch (Exception ex)
        {
            report.Failures.Add($"mqtt: starting mosquitto: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
            return 1;
        }
        await using var _ = broker;
        try
        {
            server = await BenchTarget.LaunchAsync(ServerKind.SensorHub, new Dictionary<string, string>
            {
                ["SensorHub:Mqtt:Host"] = "127.0.0.1",
                ["SensorHub:Mqtt:Port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["SensorHub:Mqtt:Topics:0"] = TopicRoot + "#",
                ["SensorHub:Mqtt:StripPrefix"] = TopicRoot,
                ["SensorHub:Mqtt:ClientId"] = $"sensorhub-bench-{Guid.NewGuid():N}",
            }, "SensorHub (MQTT)");
        }
        catch (Exception ex)
        {
            report.Failures.Add($"mqtt: starting SensorHub on the broker: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
            return 1;
        }
        await using var __ = server;
        await using var feeds = await Feeds.ConnectAsync(server);
        try
        {
            await WaitIngestingAsync(broker, server, feeds);
        }
        catch (Exception ex)
        {
            report.Failures.Add($"mqtt: waiting for the ingest to take readings: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
            return 1;
        }
        Console.WriteLine($"mqtt: mosquitto (pid {broker.Pid}, port {broker.Port}) and SensorHub (pid {server.Pid}) ingesting in {clock.Elapsed.TotalSeconds:F1} s");

        if (s.WarmUp && runThroughput)
        {
            foreach (var mqtt in new[] { true, false })
            {
                try
                {
                    await ThroughputAsync(server, broker, feeds, mqtt, TimeSpan.FromSeconds(1));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Console.Error.WriteLine($"mqtt: warm-up failed: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
        if (runThroughput)
        {
            await compare(s_section, throughputName, s.Rounds,
                () => ThroughputAsync(server, broker, feeds, mqtt: true, s.ThroughputDuration),
                () => ThroughputAsync(server, broker, feeds, mqtt: false, s.ThroughputDuration));
        }
        if (s.ComparePublish)
        {
            await compare(s_section, latencyName, s.Rounds,
                () => LatencyAsync(server, broker, mqtt: true, s),
                () => LatencyAsync(server, broker, mqtt: false, s));
            return 0;
        }
        // Through the broker alone (smoke): one run, its rows with no B.
        if (!selected(latencyName))
            return 0;
        try
        {
            var run = Stopwatch.StartNew();
            var measure = await LatencyAsync(server, broker, mqtt: true, s);
            Console.WriteLine($"  {latencyName}: {s_section.ALabel}: {run.Elapsed.TotalSeconds:F1} s");
            foreach (var (metric, value) in measure.Values)
            {
                report.Rows.Add(new Row(s_section, latencyName, metric, value, double.NaN));
                Console.WriteLine($"{latencyName,-60} {metric,-38} {s_section.ALabel} {Report.Format(value),10}");
            }
            return 0;
        }
        catch (Exception ex)
        {
            report.Failures.Add($"{latencyName}, {s_section.ALabel}: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
            return 1;
        }
    }

    /// <summary>
    /// One device flat out for <paramref name="duration"/>, nobody subscribed: readings that reached the feed per second,
    /// from <c>go</c> to the moment the feed had them all.
    /// </summary>
    private static async Task<Measure> ThroughputAsync(BenchTarget server, MosquittoProcess broker, Feeds feeds, bool mqtt, TimeSpan duration)
    {
        var sensor = Clients.NewSensor(mqtt ? "mqtt-in" : "publish-in");
        await server.RegisterSensorAsync(sensor);
        await using var device = await LaunchDeviceAsync(server, broker, sensor, mqtt, 0, duration);
        // The device's first reading, sent before it said it was connected, is in the feed before anything is timed.
        // Sequences are consecutive per sensor but do not start at 1: the readings taken are counted from this one.
        await feeds.WaitForAsync(sensor, 1, TimeSpan.FromSeconds(30));
        // A flat-out MQTT device sends one first reading on each of its connections.
        await Task.Delay(300);
        var first = await feeds.LastSequenceAsync(sensor);
        var before = await server.SampleAsync();
        var go = Stopwatch.GetTimestamp();
        await device.GoAsync();
        var sent = await device.WaitDoneAsync(duration + TimeSpan.FromSeconds(60));
        // Everything the device had answered is in the feed (Publish), or on its way from the broker (MQTT): wait until
        // the feed holds it all, or stops growing.
        var (last, at) = await feeds.WaitSettledAsync(sensor, first + sent.Accepted, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        var after = await server.SampleAsync();
        var taken = last - first;
        var seconds = (double)(at - go) / Stopwatch.Frequency;
        var serverSeconds = (double)(after.Timestamp - before.Timestamp) / Stopwatch.Frequency;
        return Measure.Of(
            ("readings/s into the feed", taken / seconds),
            ("device sent/s", sent.Sent / sent.Seconds),
            ("device acknowledged %", sent.Sent == 0 ? double.NaN : 100.0 * sent.Accepted / sent.Sent),
            ("readings in the feed % of sent", sent.Sent == 0 ? double.NaN : 100.0 * taken / sent.Sent),
            ("server CPU %", DeliveryWindow.Share(after.CpuSeconds - before.CpuSeconds, serverSeconds)),
            ("server CPU µs per reading", taken > 0 ? (after.CpuSeconds - before.CpuSeconds) * 1e6 / taken : double.NaN));
    }

    /// <summary>The device at a light rate, SignalR subscribers on its sensor: publish-to-receive latency.</summary>
    private static async Task<Measure> LatencyAsync(BenchTarget server, MosquittoProcess broker, bool mqtt, MqttScenarios s)
    {
        var sensor = Clients.NewSensor(mqtt ? "mqtt-latency" : "publish-latency");
        await server.RegisterSensorAsync(sensor);
        await using ISubscribers subscribers = await DotNetSubscribers.ConnectAsync(server, s.Subscribers, Protocol.MessagePack, SensorHubMethods.Subscribe, group: false, sensor);
        await using var device = await LaunchDeviceAsync(server, broker, sensor, mqtt, s.LatencyRate, s.Warmup + s.Duration + TimeSpan.FromSeconds(5));
        await device.GoAsync();
        var window = await DeliveryWindow.MeasureAsync(server, subscribers, s.Subscribers, heavy: false, s.Duration, lead: s.Warmup);
        var sent = await device.StopAsync(TimeSpan.FromSeconds(60));
        return Measure.Of(
        [
            .. window,
            ("device sent/s", sent.Sent / sent.Seconds),
        ]);
    }

    private static async Task<DeviceProcess> LaunchDeviceAsync(BenchTarget server, MosquittoProcess broker, string sensor, bool mqtt, double rate, TimeSpan stopAfter) =>
        mqtt
            ? await MqttDevice.LaunchAsync(broker.Port, TopicRoot + sensor, rate, stopAfter)
            : await Device.LaunchAsync(server, sensor, rate, batch: 1, stopAfter, await server.DevTokenAsync(Roles.Device));

    /// <summary>
    /// Publishes to a probe sensor every 200 ms until a reading of it is in its feed: the ingest is connected and
    /// subscribed (what the broker had before its subscription went to nobody).
    /// </summary>
    private static async Task WaitIngestingAsync(MosquittoProcess broker, BenchTarget server, Feeds feeds)
    {
        var sensor = Clients.NewSensor("mqtt-probe");
        await server.RegisterSensorAsync(sensor);
        using var client = await MqttDevice.ConnectAsync("127.0.0.1", broker.Port, CancellationToken.None);
        var deadline = Stopwatch.StartNew();
        while (await feeds.LastSequenceAsync(sensor) < 1)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"no reading published to {TopicRoot}{sensor} reached the feed within 30 s: the ingest did not connect to the broker");
            await MqttDevice.PublishAsync(client, TopicRoot + sensor, 1, CancellationToken.None);
            await Task.Delay(200);
        }
    }

    /// <summary>The driver's view of the feeds: a hub connection that asks <c>ListSensors</c> for a sensor's last sequence.</summary>
    private sealed class Feeds(HubConnection connection) : IAsyncDisposable
    {
        public static async Task<Feeds> ConnectAsync(BenchTarget server) => new(await server.ConnectAsync(Protocol.MessagePack));

        public async Task<long> LastSequenceAsync(string sensor)
        {
            var page = await connection.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, new SensorQuery { Prefix = sensor, Limit = 1 });
            return page.Sensors.FirstOrDefault(x => x.Id == sensor)?.LastSequence ?? 0;
        }

        public async Task WaitForAsync(string sensor, long sequence, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            long last;
            while ((last = await LastSequenceAsync(sensor)) < sequence)
            {
                if (deadline.Elapsed > timeout)
                    throw new TimeoutException($"{sensor} had sequence {last} after {timeout.TotalSeconds:0} s, waiting for {sequence}");
                await Task.Delay(10);
            }
        }

        /// <summary>
        /// Polls every 10 ms until the feed holds <paramref name="expected"/> or has not grown for <paramref name="quiet"/>;
        /// returns the last sequence and the <see cref="Stopwatch"/> timestamp of the poll that first saw it.
        /// </summary>
        public async Task<(long Last, long At)> WaitSettledAsync(string sensor, long expected, TimeSpan quiet, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            long last = -1, at = 0;
            while (deadline.Elapsed < timeout)
            {
                var now = await LastSequenceAsync(sensor);
                var timestamp = Stopwatch.GetTimestamp();
                if (now != last)
                    (last, at) = (now, timestamp);
                if (last >= expected || Stopwatch.GetElapsedTime(at) > quiet)
                    return (last, at);
                await Task.Delay(10);
            }
            return (last, at);
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
