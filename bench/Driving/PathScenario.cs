using SensorHub.Server.Identity;

namespace SensorHub.Bench.Driving;

/// <summary>Which client the subscribers of a path case run on.</summary>
internal enum SubscriberClient
{
    /// <summary>The official JavaScript client in Node (bench/js/loadgen.mjs), connecting as the dashboard does.</summary>
    Js,

    /// <summary>The .NET client in the driver (<see cref="Clients"/>), negotiation skipped, no token.</summary>
    DotNet,
}

/// <summary>
/// One case of the path users take. Light: 20,000 deliveries a second in all (the device publishes 20,000/N readings a
/// second); heavy: 500,000 in all (<see cref="HeavyDeliveries"/>). <see cref="Batch"/> 1: the device publishes one reading per item
/// through <c>Publish</c>; more: up to that many per item through <c>PublishBatches</c>. The baseline's subscribers read
/// its one stream whatever <see cref="Method"/> says.
/// </summary>
internal sealed record PathCase(int Subscribers, bool Heavy, Protocol Protocol, string Method, SubscriberClient Client, int Batch = 1)
{
    public const string Prefix = "path ";

    /// <summary>Deliveries per second asked for in all by a light case.</summary>
    public const double LightDeliveries = 20_000;

    /// <summary>
    /// Deliveries per second asked for in all by a heavy case: more than one Node process takes in (135,000 to
    /// 405,000 readings/s measured here, by protocol and method), so the subscribers' side is saturated. Not flat out:
    /// with 1,000 connections a flat-out device (36,000 readings/s, 36 million deliveries asked) left megabytes in
    /// every socket, one pass of Node's event loop over them took minutes, and both servers closed the connections
    /// they could not send to for a minute; nothing was measured.
    /// </summary>
    public const double HeavyDeliveries = 500_000;

    /// <summary>The device's readings per second.</summary>
    public double DeviceRate => (Heavy ? HeavyDeliveries : LightDeliveries) / Subscribers;

    /// <summary>
    /// The row's name, e.g. <c>path N=1000 light Json Subscribe, JS clients, device per reading</c>; <see cref="Targets"/>
    /// picks rows by its parts.
    /// </summary>
    public override string ToString() =>
        $"{Load(Subscribers, Heavy)} {Protocol} {Method}, {(Client == SubscriberClient.Js ? "JS" : ".NET")} clients, " +
        $"device {(Batch == 1 ? "per reading" : $"batches of {Batch}")}";

    /// <summary>The start of a row's name: <c>path N=1000 light</c>.</summary>
    public static string Load(int subscribers, bool heavy) => $"{Prefix}N={subscribers} {(heavy ? "heavy" : "light")}";
}

/// <summary>
/// The path users take: a device publishing from a process of its own through the hub's <c>Publish</c> or
/// <c>PublishBatches</c>, N subscribers on one sensor (the JavaScript client in a load generator process, or .NET
/// clients in the driver), the server between them in its own process. Latency runs from the device's send to the
/// subscriber's receive, on the machine's monotonic clock.
/// </summary>
internal static class PathScenario
{
    /// <summary>How long the device runs past the window by itself, should the driver be too swamped to stop it in time.</summary>
    private static readonly TimeSpan s_deviceSlack = TimeSpan.FromSeconds(5);

    public static async Task<Measure> RunAsync(BenchTarget target, PathCase c, TimeSpan warmup, TimeSpan duration)
    {
        var sensor = Clients.NewSensor("path");
        await target.RegisterSensorAsync(sensor);
        await using ISubscribers subscribers = c.Client == SubscriberClient.Js
            ? await JsSubscribers.StartAsync(target, c.Subscribers, c.Protocol, c.Method, sensor, await ViewerTokenAsync(target))
            : await DotNetSubscribers.ConnectAsync(target, c.Subscribers, c.Protocol, c.Method, group: false, sensor);
        var deviceToken = target.IsBaseline ? null : await target.DevTokenAsync(Roles.Device);
        await using var device = await Device.LaunchAsync(target, sensor, c.DeviceRate, c.Batch, warmup + duration + s_deviceSlack, deviceToken);
        await device.GoAsync();
        // The warm-up is the window's lead: the subscribers learn the window before the device's readings pile up.
        var window = await DeliveryWindow.MeasureAsync(target, subscribers, c.Subscribers, c.Heavy, duration, lead: warmup);
        var sent = await device.StopAsync(TimeSpan.FromSeconds(60));
        return Measure.Of(
        [
            .. window,
            ("device sent/s", sent.Sent / sent.Seconds),
            ("device accepted %", sent.Sent == 0 ? double.NaN : 100.0 * sent.Accepted / sent.Sent),
        ]);
    }

    /// <summary>A viewer's dev token for SensorHub, as the dashboard holds; none for the baseline, which has no authentication.</summary>
    public static async Task<string?> ViewerTokenAsync(BenchTarget target) => target.IsBaseline ? null : await target.DevTokenAsync(Roles.Viewer);
}
