using SensorHub.Server.Feeds;
using SensorHub.Server.Hubs;
using SensorHub.Server.Stats;

namespace SensorHub.Server.Telemetry;

/// <summary>
/// Creates the services that own SensorHub's instruments when the host starts, not when something first asks for
/// them: an instrument exists only once its owner does, and a scrape before the first stream or refusal would
/// otherwise miss <c>sensorhub.readings.*</c> or <c>sensorhub.refusals</c> (and a dashboard would show no data rather
/// than zero). The counts that are tagged get a 0 for each value they can take, for the same reason; registered after
/// OpenTelemetry's own hosted service, so that its listener is there to see them.
/// </summary>
internal sealed class InstrumentsAtStart(FeedMetrics feeds, HubActivity hub, Refusals refusals) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(feeds);
        hub.RecordZeros();
        refusals.RecordZeros();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
