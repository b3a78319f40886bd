using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hosting;

public sealed class EndpointTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [InlineData(Transport.TestServer)]
    [InlineData(Transport.Kestrel)]
    public async Task HealthzAnswersOk(Transport transport)
    {
        using var client = apps[transport].CreateHttpClient();

        using var response = await client.GetAsync(SensorHubRoutes.Health).WaitAsync(Timeouts.Default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StatsHaveTheContractsFieldNames()
    {
        using var client = apps[Transport.TestServer].CreateHttpClient();

        using var stats = JsonDocument.Parse(await client.GetStringAsync(SensorHubRoutes.Stats).WaitAsync(Timeouts.Default));

        var names = stats.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "connections", "activeStreams", "readingsPublished", "readingsDelivered", "readingsDropped" }, names);
        Assert.All(stats.RootElement.EnumerateObject().Where(p => p.Name != "refusals"), p => Assert.Equal(JsonValueKind.Number, p.Value.ValueKind));
        // Refusals by code: an object with every code, each a number.
        var refusals = stats.RootElement.GetProperty("refusals");
        Assert.Equal(SensorHubErrors.All.Order(StringComparer.Ordinal), refusals.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(refusals.EnumerateObject(), p => Assert.Equal(JsonValueKind.Number, p.Value.ValueKind));
    }

    [Fact]
    public async Task StatsCountConnectionsStreamsAndReadings()
    {
        var app = apps[Transport.TestServer];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        var before = await app.GetStatsAsync();
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);

        var stream = connection.Hub.ReadReadingsAsync(sensorId, null, 10, leave.Token);
        await Hubs.SubscribeTests.WaitForSubscriberAsync(app, sensorId);
        var during = await app.GetStatsAsync();
        await app.Engine.PublishAsync(sensorId, 10);
        await stream;
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == before.ActiveStreams, Timeouts.Default, "the stream ended");
        var after = await app.GetStatsAsync();

        Assert.Equal(before.Connections + 1, during.Connections);
        Assert.Equal(before.ActiveStreams + 1, during.ActiveStreams);
        Assert.Equal(before.ReadingsPublished + 10, after.ReadingsPublished);
        Assert.Equal(before.ReadingsDelivered + 10, after.ReadingsDelivered);
        Assert.Equal(before.ActiveStreams, after.ActiveStreams);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    [Fact]
    public async Task RootServesAPage()
    {
        using var client = apps[Transport.TestServer].CreateHttpClient();

        var page = await client.GetStringAsync("/").WaitAsync(Timeouts.Default);

        Assert.Contains("SensorHub", page, StringComparison.Ordinal);
    }
}
