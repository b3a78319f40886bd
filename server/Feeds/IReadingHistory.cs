using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>The newest readings of each sensor, kept for replay.</summary>
public interface IReadingHistory
{
    /// <summary>
    /// Up to <paramref name="maxCount"/> consecutive readings of a sensor, in sequence order, starting at
    /// <paramref name="fromSequence"/> or, when history no longer reaches back that far, at the oldest kept.
    /// Empty when there is nothing at or after <paramref name="fromSequence"/>, or the sensor is unknown.
    /// </summary>
    ValueTask<IReadOnlyList<Reading>> ReadAsync(string sensorId, long fromSequence, int maxCount, CancellationToken cancellationToken);
}
