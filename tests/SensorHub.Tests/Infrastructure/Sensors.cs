using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Feeds.Internal;

namespace SensorHub.Tests.Infrastructure;

/// <summary>Helpers that put readings into a test's own sensors.</summary>
public static class Sensors
{
    /// <summary>A sensor id no other test uses.</summary>
    public static string NewId(string prefix = "test") => $"{prefix}/{Guid.NewGuid():N}";

    /// <summary>Publishes <paramref name="count"/> readings straight into the engine and returns them.</summary>
    public static async Task<List<Reading>> PublishAsync(this IFeedEngine engine, string sensorId, int count, double firstValue = 0)
    {
        var readings = new List<Reading>(count);
        for (var i = 0; i < count; i++)
            readings.Add(await engine.PublishAsync(sensorId, firstValue + i, DateTime.UtcNow, CancellationToken.None));
        return readings;
    }

    /// <summary>
    /// Publishes one reading straight into the engine as the server does (an unknown sensor is registered as the
    /// server's, counted in <c>MaxSensors</c> only and never removed as idle), and returns it; fails the test when the
    /// engine refuses.
    /// </summary>
    public static async ValueTask<Reading> PublishAsync(
        this IFeedEngine engine, string sensorId, double value, DateTime timestampUtc, CancellationToken cancellationToken)
    {
        var outcome = await engine.PublishAsync(sensorId, value, timestampUtc, SensorRegistration.ByServer, cancellationToken);
        return outcome.IsPublished ? outcome.Reading : throw new InvalidOperationException($"The engine did not publish to {sensorId}: {outcome.Status}.");
    }

    /// <summary>Checks that sequences rise by exactly one from reading to reading.</summary>
    public static void AssertConsecutive(IReadOnlyList<Reading> readings)
    {
        for (var i = 1; i < readings.Count; i++)
        {
            if (readings[i].Sequence != readings[i - 1].Sequence + 1)
                Assert.Fail($"Sequence {readings[i - 1].Sequence} is followed by {readings[i].Sequence} at index {i}.");
        }
    }

    /// <summary>The live subscriptions attached to a sensor of the in-memory engine now.</summary>
    internal static int SubscribersOf(SensorHubApplication app, string sensorId) =>
        app.Services.GetRequiredService<SensorFeedRegistry>().TryGet(sensorId, out var feed) ? feed.Subscribers.Length : 0;
}
