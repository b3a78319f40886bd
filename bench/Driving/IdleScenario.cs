using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Idle connections, with or without one open subscription each to a quiet sensor: what the server holds per
/// connection, measured inside the server process after a forced compacting collection.
/// </summary>
internal static class IdleScenario
{
    /// <param name="holdOpen">How long to keep the connections open after measuring, e.g. for <c>dotnet-gcdump collect</c>.</param>
    public static async Task<Measure> RunAsync(BenchTarget target, int count, bool withStream, TimeSpan holdOpen)
    {
        var sensor = Clients.NewSensor("idle");
        await target.RegisterSensorAsync(sensor);
        var before = await target.SampleAsync(collect: true);
        using var stop = new CancellationTokenSource();
        var connections = await Clients.ConnectManyAsync(target, count, Protocol.MessagePack);
        var consumers = withStream
            ? connections.Select(conn => Clients.ConsumeAsync(target, conn, SensorHubMethods.Subscribe, group: false, sensor, _ => { }, stop.Token)).ToArray()
            : [];
        if (withStream)
            await Clients.WaitForStreamsAsync(target, before.ActiveStreams + count, TimeSpan.FromSeconds(120));
        await Task.Delay(500);
        var after = await target.SampleAsync(collect: true);
        if (holdOpen > TimeSpan.Zero)
        {
            Console.WriteLine($"{target.Name}: {count} idle connections open for {holdOpen.TotalSeconds} s");
            await Task.Delay(holdOpen);
        }
        await stop.CancelAsync();
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
        await Clients.DisposeAllAsync(connections);
        return Measure.Of(
            ("server heap KB/conn", (after.HeapBytes - before.HeapBytes) / 1024.0 / count),
            ("server working set KB/conn", (after.WorkingSetBytes - before.WorkingSetBytes) / 1024.0 / count));
    }
}
