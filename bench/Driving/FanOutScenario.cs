namespace SensorHub.Bench.Driving;

/// <summary>A fan-out case; <see cref="BaselineGroup"/> compares with the baseline's group broadcast instead of its stream.</summary>
internal sealed record FanOutCase(int Subscribers, bool Heavy, Protocol Protocol, string Method, bool BaselineGroup = false)
{
    public override string ToString() =>
        $"fan-out N={Subscribers} {(Heavy ? "heavy" : "light")} {Protocol} {Method} vs baseline {(BaselineGroup ? "group" : "stream")}";
}

/// <summary>
/// One publisher inside the server, N subscribers on one sensor, one connection each. Light: 20,000 deliveries/s in
/// all; heavy: as fast as the publisher goes. Readings are counted one by one (a batch counts its readings).
/// </summary>
internal static class FanOutScenario
{
    public const string ReadingsPerSecond = DeliveryWindow.ReadingsPerSecond;

    public static async Task<Measure> RunAsync(BenchTarget target, FanOutCase c, TimeSpan warmup, TimeSpan duration)
    {
        var sensor = Clients.NewSensor("fanout");
        await target.RegisterSensorAsync(sensor);
        var group = target.IsBaseline && c.BaselineGroup;
        await using var subscribers = await DotNetSubscribers.ConnectAsync(target, c.Subscribers, c.Protocol, c.Method, group, sensor);
        try
        {
            await target.StartPublisherAsync(sensor, c.Heavy ? 0 : 20_000.0 / c.Subscribers, group, warmup + duration + TimeSpan.FromSeconds(1));
            await Task.Delay(warmup);
            return Measure.Of(await DeliveryWindow.MeasureAsync(target, subscribers, c.Subscribers, c.Heavy, duration));
        }
        finally
        {
            await target.StopPublisherAsync();
        }
    }
}
