using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Hubs;

internal sealed partial class SensorsHub
{
    /// <summary>The live readings of one sensor, in sequence order.</summary>
    [Requires(Permission.Read)]
    public IAsyncEnumerable<Reading> Subscribe(string sensorId, SubscribeOptions? options, CancellationToken cancellationToken)
    {
        CheckSubscription(sensorId, options);
        return feeds.ReadingsAsync(sensorId, options, cancellationToken);
    }

    /// <summary>The same feed as <see cref="Subscribe"/>, each item carrying every reading ready at that moment.</summary>
    [Requires(Permission.Read)]
    public IAsyncEnumerable<Reading[]> SubscribeBatches(string sensorId, SubscribeOptions? options, CancellationToken cancellationToken)
    {
        CheckSubscription(sensorId, options);
        return feeds.BatchesAsync(sensorId, options, cancellationToken);
    }

    /// <summary>Every known sensor the caller may read, with its newest reading.</summary>
    [Requires(Permission.Read)]
    public async Task<IReadOnlyList<SensorInfo>> ListSensors()
    {
        var user = Caller;
        var sensors = await engine.ListSensorsAsync(Context.ConnectionAborted);
        return user.SensorPrefixes is null ? sensors : sensors.Where(s => user.Covers(s.Id)).ToArray();
    }

    /// <summary>A device's or gateway's stream of readings; each bad item, or one for a sensor the caller may not publish to, is rejected alone.</summary>
    [Requires(Permission.Publish)]
    public Task<PublishResult> Publish(IAsyncEnumerable<ReadingInput?> readings) =>
        ingest.PublishAsync(
            readings,
            new Publisher(Caller.Id, Caller.Covers, rates.ReadingsOf(Context.ConnectionId), rates.NewSensorsOf(Context.ConnectionId)),
            Context.ConnectionAborted);

    private void CheckSubscription(string sensorId, SubscribeOptions? options)
    {
        HubArguments.CheckSensorId(sensorId);
        HubArguments.CheckSubscribeOptions(options);
        if (!Caller.Covers(sensorId))
            throw new SensorHubException(SensorHubErrors.NotAllowed, $"Not allowed: your token may not read sensor '{sensorId}'.");
    }
}
