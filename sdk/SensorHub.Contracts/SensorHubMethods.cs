namespace SensorHub.Contracts;

/// <summary>The hub's method names, letter for letter as clients invoke them.</summary>
public static class SensorHubMethods
{
    /// <summary><c>IAsyncEnumerable&lt;Reading&gt; Subscribe(string sensorId, SubscribeOptions? options)</c>.</summary>
    public const string Subscribe = nameof(Subscribe);

    /// <summary><c>IAsyncEnumerable&lt;Reading[]&gt; SubscribeBatches(string sensorId, SubscribeOptions? options)</c>.</summary>
    public const string SubscribeBatches = nameof(SubscribeBatches);

    /// <summary><c>Task&lt;IReadOnlyList&lt;SensorInfo&gt;&gt; ListSensors()</c>.</summary>
    public const string ListSensors = nameof(ListSensors);

    /// <summary><c>Task&lt;PublishResult&gt; Publish(IAsyncEnumerable&lt;ReadingInput&gt; readings)</c>.</summary>
    public const string Publish = nameof(Publish);
}
