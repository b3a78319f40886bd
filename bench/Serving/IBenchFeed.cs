namespace SensorHub.Bench.Serving;

/// <summary>What the bench needs from a server under test: sensors, in-process publishing and its own counts.</summary>
internal interface IBenchFeed
{
    long ActiveStreams { get; }

    ValueTask RegisterAsync(string sensorId);

    /// <summary>Publishes one reading whose value is <paramref name="value"/>; <paramref name="group"/> picks the baseline's group broadcast.</summary>
    ValueTask PublishAsync(string sensorId, double value, bool group);
}
