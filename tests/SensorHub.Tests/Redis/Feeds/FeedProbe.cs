using Microsoft.Extensions.DependencyInjection;
using SensorHub.Server.Redis.Feeds.Internal;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Redis.Feeds;

/// <summary>Looks into a node's feeds whatever its engine.</summary>
internal static class FeedProbe
{
    /// <summary>The live subscriptions on a sensor on this node now.</summary>
    public static int SubscribersOf(SensorHubApplication app, string sensorId) =>
        app.Services.GetService<RedisFeedRouter>() is { } router ? router.SubscribersOf(sensorId) : Sensors.SubscribersOf(app, sensorId);

    /// <summary>Waits until <paramref name="subscribers"/> streams on the node have attached to the sensor.</summary>
    public static Task WaitForSubscribersAsync(SensorHubApplication app, string sensorId, int subscribers = 1) =>
        Timeouts.WaitUntilAsync(
            () => SubscribersOf(app, sensorId) >= subscribers,
            Timeouts.Default,
            $"{subscribers} subscribers on {sensorId} (has {SubscribersOf(app, sensorId)})");
}
