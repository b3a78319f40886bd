using System.Globalization;
using SensorHub.Bench.Serving;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// One case of the many-sensor scenario: <see cref="Connections"/> subscriber connections, each following every one of
/// the server's sensors, and the in-server publisher at <see cref="RatePerSensor"/> readings a second on each sensor.
/// </summary>
internal sealed record ManyCase(int Sensors, int Connections, bool Heavy, double RatePerSensor)
{
    public const string Prefix = "many: ";

    public override string ToString() =>
        $"{Prefix}{Sensors} sensors, {Connections} connection{(Connections == 1 ? "" : "s")}, {(Heavy ? "heavy" : "light")} " +
        $"({RatePerSensor.ToString(CultureInfo.InvariantCulture)}/s per sensor, {(RatePerSensor * Sensors).ToString("N0", CultureInfo.InvariantCulture)}/s in all)";
}

/// <summary>
/// Issue 16: one <c>SubscribeMany</c> on <c>#</c> against one <c>Subscribe</c> per sensor, on the same connection:
/// SensorHub against itself, on a server of its own (<see cref="StartServerAsync"/>) whose only sensors are the
/// scenario's, so that <c>#</c> follows exactly them. The publisher runs inside the server, publishing to the sensors in
/// turn (each reading's value its <see cref="System.Diagnostics.Stopwatch"/> timestamp, as in the fan-out scenario);
/// the subscribers are the driver's .NET clients (MessagePack, WebSockets without negotiation, no token).
/// </summary>
internal static class ManyScenario
{
    public const string Pattern = "#";
    public const string HeapIdle = "server heap KB/conn, idle";
    public const string HeapLoaded = "server heap KB/conn, under load";
    public const string CpuPerReading = "server CPU µs per reading delivered";

    /// <summary>
    /// The server's settings: room for one connection's 500 <c>Subscribe</c> streams (the bench's default cap is 100),
    /// and a short history per sensor (16 readings: the ring's first size, filled before anything is measured), so
    /// that the server's heap holds still while readings flow and a difference of heaps is what the subscribers hold.
    /// </summary>
    private static readonly Dictionary<string, string> s_settings = new()
    {
        ["SensorHub:Hub:MaxStreamsPerConnection"] = "1000",
        ["SensorHub:Feeds:HistoryCapacity"] = "16",
    };

    /// <summary>Starts a SensorHub of its own, registers <paramref name="count"/> sensors and fills their history.</summary>
    public static async Task<(BenchTarget Server, string[] Sensors)> StartServerAsync(int count)
    {
        var server = await BenchTarget.LaunchAsync(ServerKind.SensorHub, s_settings, "SensorHub (many)");
        try
        {
            var sensors = Enumerable.Range(0, count).Select(i => $"plant-{i / 100}/line-{i / 10 % 10}/sensor-{i % 10}").ToArray();
            using var gate = new SemaphoreSlim(16);
            await Task.WhenAll(sensors.Select(async id =>
            {
                await gate.WaitAsync();
                try { await server.RegisterSensorAsync(id); }
                finally { gate.Release(); }
            }));
            // Flat out for a moment: every sensor's history ring full, so that it does not grow while measuring.
            await server.StartPublisherAsync(sensors, 0, TimeSpan.FromSeconds(0.5));
            await Task.Delay(TimeSpan.FromSeconds(0.6));
            await server.StopPublisherAsync();
            return (server, sensors);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One run: <paramref name="many"/> one <c>SubscribeMany</c> on <c>#</c> per connection, else one <c>Subscribe</c>
    /// per sensor per connection. Reports the delivery window's figures, the server's CPU per reading delivered, and
    /// its managed heap per connection (forced compacting collections), idle and under load.
    /// </summary>
    public static async Task<Measure> RunAsync(BenchTarget target, IReadOnlyList<string> sensors, ManyCase c, bool many, TimeSpan warmup, TimeSpan duration)
    {
        var before = await target.SampleAsync(collect: true);
        ServerSample idle, loaded;
        (string Metric, double Value)[] window;
        var subscribers = await DotNetSubscribers.ConnectAsync(target, c.Connections, Protocol.MessagePack, many ? 1 : sensors.Count,
            (connection, latency, token) => many
                ? [Clients.ConsumeManyAsync(connection, Pattern, null, latency.NewConsumer(manySensors: true), token)]
                : sensors.Select(id => Clients.ConsumeAsync(target, connection, SensorHubMethods.Subscribe, group: false, id, latency.NewConsumer(), token)).ToArray());
        try
        {
            // A SubscribeMany stream counts once it is open; its sensors' subscriptions open on its first step.
            await Task.Delay(500);
            idle = await target.SampleAsync(collect: true);
            await target.StartPublisherAsync(sensors, c.RatePerSensor * sensors.Count, warmup + duration + TimeSpan.FromSeconds(10));
            try
            {
                await Task.Delay(warmup);
                // Under load, before the window: the forced collections pause the server, which the window should not see.
                loaded = await target.SampleAsync(collect: true);
                window = await DeliveryWindow.MeasureAsync(target, subscribers, c.Connections, c.Heavy, duration);
            }
            finally
            {
                await target.StopPublisherAsync();
            }
        }
        finally
        {
            await subscribers.DisposeAsync();
        }
        await Clients.WaitForStreamsAsync(target, before.ActiveStreams, TimeSpan.FromSeconds(60), active => active <= before.ActiveStreams);
        var after = await target.SampleAsync(collect: true);

        var readingsPerSecond = window.First(m => m.Metric == DeliveryWindow.ReadingsPerSecond).Value;
        var cpuPercent = window.First(m => m.Metric == "server CPU %").Value;
        return Measure.Of(
        [
            .. window,
            (CpuPerReading, readingsPerSecond > 0 ? cpuPercent / 100 * Environment.ProcessorCount / readingsPerSecond * 1e6 : double.NaN),
            (HeapIdle, (idle.HeapBytes - before.HeapBytes) / 1024.0 / c.Connections),
            (HeapLoaded, (loaded.HeapBytes - after.HeapBytes) / 1024.0 / c.Connections),
        ]);
    }
}
