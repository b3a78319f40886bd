using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Hubs;

internal sealed partial class SensorsHub
{
    /// <summary>The live readings of one sensor, in sequence order.</summary>
    public IAsyncEnumerable<Reading> Subscribe(string sensorId, SubscribeOptions? options, CancellationToken cancellationToken)
    {
        HubArguments.CheckSensorId(sensorId);
        HubArguments.CheckSubscribeOptions(options);
        return feeds.ReadingsAsync(sensorId, options, cancellationToken);
    }

    /// <summary>The same feed as <see cref="Subscribe"/>, each item carrying every reading ready at that moment.</summary>
    public IAsyncEnumerable<Reading[]> SubscribeBatches(string sensorId, SubscribeOptions? options, CancellationToken cancellationToken)
    {
        HubArguments.CheckSensorId(sensorId);
        HubArguments.CheckSubscribeOptions(options);
        return feeds.BatchesAsync(sensorId, options, cancellationToken);
    }

    /// <summary>Every known sensor with its newest reading.</summary>
    public async Task<IReadOnlyList<SensorInfo>> ListSensors() =>
        await engine.ListSensorsAsync(Context.ConnectionAborted);

    /// <summary>A device's or gateway's stream of readings; each bad item is rejected alone.</summary>
    public Task<PublishResult> Publish(IAsyncEnumerable<ReadingInput?> readings) =>
        ingest.PublishAsync(readings, Context.ConnectionAborted);
}
