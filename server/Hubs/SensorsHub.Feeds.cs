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

    /// <summary>
    /// The readings of every sensor whose id matches <paramref name="pattern"/> (MQTT's <c>+</c> and <c>#</c> over the
    /// <c>/</c> levels of ids) and the caller may read, those that appear later included, in batches of what is ready.
    /// One stream against the connection's cap, however many sensors it follows.
    /// </summary>
    [Requires(Permission.Read)]
    public IAsyncEnumerable<Reading[]> SubscribeMany(string pattern, SubscribeManyOptions? options, CancellationToken cancellationToken)
    {
        var parsed = HubArguments.CheckPattern(pattern);
        HubArguments.CheckSubscribeManyOptions(options);
        var caller = Caller;
        return feeds.ManyAsync(parsed, options, caller.SensorPrefixes is null ? null : caller.Covers, cancellationToken);
    }

    /// <summary>One page of the known sensors the caller may read, by id, each with its newest reading.</summary>
    [Requires(Permission.Read)]
    public async Task<SensorPage> ListSensors(SensorQuery? query)
    {
        var (prefix, after, limit) = SensorQueries.Check(query);
        var user = Caller;
        return await engine.ListSensorsAsync(prefix, after, limit, user.SensorPrefixes is null ? null : user.Covers, Context.ConnectionAborted);
    }

    /// <summary>
    /// A device's or gateway's stream of readings; each bad item, or one for a sensor the caller may not publish to, is
    /// rejected alone. A caller without a subject publishes to known sensors only: a sensor it registered would be no one's.
    /// </summary>
    [Requires(Permission.Publish)]
    public Task<PublishResult> Publish(IAsyncEnumerable<ReadingInput?> readings) =>
        ingest.PublishAsync(readings, CallerAsPublisher(), Context.ConnectionAborted);

    /// <summary>
    /// <see cref="Publish"/> with several readings in each stream item, so that a gateway pays one message per batch:
    /// each reading is checked, limited and rejected alone as there, and numbered by its position over the whole stream;
    /// a batch over <see cref="FeedOptions.MaxPublishBatchSize"/> is rejected whole. It holds a stream slot until it
    /// ends, as <see cref="Publish"/> does (<see cref="ConnectionLimitsFilter"/> counts every method that takes a
    /// client-to-server stream).
    /// </summary>
    [Requires(Permission.Publish)]
    public Task<PublishResult> PublishBatches(IAsyncEnumerable<ReadingInput?[]?> batches) =>
        ingest.PublishBatchesAsync(batches, CallerAsPublisher(), Context.ConnectionAborted);

    /// <summary>
    /// The caller as <see cref="ReadingIngest"/> sees it: its token's sensor prefixes, its connection's budgets for
    /// readings and new sensors (shared by all its publishing streams), and whether it may register sensors.
    /// </summary>
    private Publisher CallerAsPublisher()
    {
        var caller = Caller;
        var limits = ConnectionLimits.Of(Context);
        return new Publisher(caller.Id, caller.Covers, limits.Readings, limits.NewSensors, mayRegister: caller.Id is not null);
    }

    private void CheckSubscription(string sensorId, SubscribeOptions? options)
    {
        HubArguments.CheckSensorId(sensorId);
        HubArguments.CheckSubscribeOptions(options);
        if (!Caller.Covers(sensorId))
            throw new SensorHubException(SensorHubErrors.NotAllowed, $"Not allowed: your token may not read sensor '{sensorId}'.");
    }
}
