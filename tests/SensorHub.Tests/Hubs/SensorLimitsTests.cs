using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The sensor caps through the hub: an item for a new sensor over a cap is rejected alone with <c>too_many_sensors</c>
/// and counted, known sensors go on, and a token without a subject registers none. Each test runs a server with small
/// caps of its own.
/// </summary>
public sealed class SensorLimitsTests
{
    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task ItemsForNewSensorsOverTheCapsAreRejectedAloneAndKnownSensorsGoOn(Transport transport, Protocol protocol)
    {
        await using var app = new SensorHubApplication(transport, new Dictionary<string, string?>
        {
            ["SensorHub:Feeds:MaxSensors"] = "4",
            ["SensorHub:Feeds:MaxSensorsPerPublisher"] = "2",
        });
        await using var alice = await app.ConnectAsync(protocol, TestUser.Device("alice"));
        await using var bob = await app.ConnectAsync(protocol, TestUser.Device("bob"));
        await using var admin = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var alices = await alice.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Items("a/1", "a/2", "a/3", "a/1", "a/2"), cts.Token);
        var bobs = await bob.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Items("b/1", "b/2", "b/3", "a/3", "a/1", "b/1"), cts.Token);
        var sensors = await admin.Hub.ListAllSensorsAsync(cancellationToken: cts.Token);
        var stats = await app.GetStatsAsync();

        Assert.Equal((4, 1), (alices.Accepted, alices.Rejected));
        var alicesRejection = Assert.Single(alices.Rejections);
        Assert.Equal((2L, "a/3", SensorHubErrors.TooManySensors), (alicesRejection.Index, alicesRejection.SensorId, alicesRejection.Code));
        Assert.Equal("sensor 'a/3' is new, and you have registered 2 sensors, the most one publisher may", alicesRejection.Reason);
        // Bob has room of his own, but the server is full after his second: his third, and a/3, are refused; a/1 is known.
        Assert.Equal((4, 2), (bobs.Accepted, bobs.Rejected));
        Assert.Equal([(2L, SensorHubErrors.TooManySensors), (3L, SensorHubErrors.TooManySensors)], bobs.Rejections.Select(r => (r.Index, r.Code)));
        Assert.Equal("sensor 'b/3' is new, and the server already holds its most sensors (4)", bobs.Rejections[0].Reason);
        Assert.Equal(["a/1", "a/2", "b/1", "b/2"], sensors.Select(s => s.Id));
        Assert.Equal(3, stats.Refusals[SensorHubErrors.TooManySensors]);
        Assert.Equal(4, stats.Sensors);
        Assert.Equal(HubConnectionState.Connected, alice.Hub.State);
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task ATokenWithoutASubjectPublishesToKnownSensorsButRegistersNone(Transport transport, Protocol protocol)
    {
        await using var app = new SensorHubApplication(transport);
        var known = Sensors.NewId("known");
        var unknown = Sensors.NewId("new");
        await app.Engine.PublishAsync(known, 1);
        var token = app.MintToken(SensorHubApplication.ClaimsOf(TestUser.Device("nobody"), withSubject: false), TimeSpan.FromHours(1));
        await using var device = await app.ConnectWithTokenAsync(protocol, token);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var result = await device.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Items(known, unknown), cts.Token);

        Assert.Equal((1, 1), (result.Accepted, result.Rejected));
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1L, SensorHubErrors.NotAllowed), (rejection.Index, rejection.Code));
        Assert.Equal($"sensor '{unknown}' is new, and a token without a subject may not register sensors", rejection.Reason);
        Assert.Null(await app.Engine.FindSensorAsync(unknown, CancellationToken.None));
        Assert.Equal(1, (await app.Engine.FindSensorAsync(known, CancellationToken.None))!.LastValue);
    }

    private static async IAsyncEnumerable<ReadingInput> Items(params string[] sensorIds)
    {
        foreach (var (sensorId, i) in sensorIds.Select((id, i) => (id, i)))
        {
            await Task.Yield();
            yield return new ReadingInput { SensorId = sensorId, Value = i + 1 };
        }
    }
}
