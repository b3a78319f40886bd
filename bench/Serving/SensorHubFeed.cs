using SensorHub.Server.Feeds;
using SensorHub.Server.Hubs;

namespace SensorHub.Bench.Serving;

/// <summary>SensorHub under test: readings go in through its engine, as a device's <c>Publish</c> ends up there.</summary>
internal sealed class SensorHubFeed(IFeedEngine engine, HubActivity activity) : IBenchFeed
{
    public long ActiveStreams => activity.ActiveStreams;

    public async ValueTask RegisterAsync(string sensorId) =>
        await engine.RegisterAsync(new SensorDescriptor(sensorId, sensorId, "bench", null), CancellationToken.None);

    public ValueTask PublishAsync(string sensorId, double value, bool group)
    {
        // The bench's sensors are registered as the server's own, so no cap or idle sweep touches them.
        var publish = engine.PublishAsync(sensorId, value, DateTime.UtcNow, Server.Feeds.SensorRegistration.ByServer, CancellationToken.None);
        return publish.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitAsync(publish);

        static async ValueTask AwaitAsync(ValueTask<PublishOutcome> publish) => await publish;
    }
}
