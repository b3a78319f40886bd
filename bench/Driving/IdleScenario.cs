using SensorHub.Bench.Serving;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Idle connections, with or without one open subscription each to a quiet sensor: what the server holds per
/// connection, measured inside the server process after a forced compacting collection.
/// </summary>
internal static class IdleScenario
{
    public const string HeapPerConnection = "server heap KB/conn";

    /// <summary>.NET clients from the driver, negotiation skipped and no token.</summary>
    /// <param name="holdOpen">How long to keep the connections open after measuring, e.g. for <c>dotnet-gcdump collect</c>.</param>
    public static Task<Measure> RunAsync(BenchTarget target, int count, bool withStream, TimeSpan holdOpen) =>
        MeasureAsync(target, count, withStream, holdOpen, async sensor =>
        {
            var connections = await Clients.ConnectManyAsync(target, count, Protocol.MessagePack);
            var stop = new CancellationTokenSource();
            var consumers = withStream
                ? connections.Select(conn => Clients.ConsumeAsync(target, conn, SensorHubMethods.Subscribe, group: false, sensor, _ => { }, stop.Token)).ToArray()
                : [];
            return new Closing(async () =>
            {
                await stop.CancelAsync();
                await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
                await Clients.DisposeAllAsync(connections);
                stop.Dispose();
            });
        });

    /// <summary>
    /// The JavaScript load generator connecting as the dashboard does (negotiation, then WebSockets; MessagePack; a
    /// viewer's dev token on SensorHub, none on the baseline, which has no authentication), one stream each.
    /// </summary>
    public static Task<Measure> RunJsAsync(BenchTarget target, int count, TimeSpan holdOpen) =>
        MeasureAsync(target, count, withStream: true, holdOpen, async sensor =>
            await JsSubscribers.StartAsync(target, count, Protocol.MessagePack, SensorHubMethods.Subscribe, sensor, await PathScenario.ViewerTokenAsync(target)));

    /// <param name="open">Opens the connections (and streams) on the sensor given; disposing what it returns closes them.</param>
    private static async Task<Measure> MeasureAsync(
        BenchTarget target, int count, bool withStream, TimeSpan holdOpen, Func<string, Task<IAsyncDisposable>> open)
    {
        var sensor = Clients.NewSensor("idle");
        await target.RegisterSensorAsync(sensor);
        var before = await target.SampleAsync(collect: true);
        ServerSample after;
        await using (await open(sensor))
        {
            if (withStream)
                await Clients.WaitForStreamsAsync(target, before.ActiveStreams + count, TimeSpan.FromSeconds(120));
            await Task.Delay(500);
            after = await target.SampleAsync(collect: true);
            if (holdOpen > TimeSpan.Zero)
            {
                Console.WriteLine($"{target.Name}: {count} idle connections open for {holdOpen.TotalSeconds} s");
                await Task.Delay(holdOpen);
            }
        }
        return Measure.Of(
            (HeapPerConnection, (after.HeapBytes - before.HeapBytes) / 1024.0 / count),
            ("server working set KB/conn", (after.WorkingSetBytes - before.WorkingSetBytes) / 1024.0 / count));
    }

    private sealed class Closing(Func<Task> close) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await close();
    }
}
