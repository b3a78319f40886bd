using SensorHub.Contracts;

namespace SensorHub.Server.Feeds.Internal;

/// <summary>The embedded history: each sensor's ring of newest readings, kept by the in-memory engine.</summary>
internal sealed class InMemoryReadingHistory(SensorFeedRegistry registry) : IReadingHistory
{
    public ValueTask<IReadOnlyList<Reading>> ReadAsync(string sensorId, long fromSequence, int maxCount, CancellationToken cancellationToken)
    {
        IReadOnlyList<Reading> page = registry.TryGet(sensorId, out var feed) ? feed.ReadHistory(fromSequence, maxCount) : [];
        return ValueTask.FromResult(page);
    }
}
