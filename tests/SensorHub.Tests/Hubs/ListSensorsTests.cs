using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary><c>ListSensors(SensorQuery? query)</c> through the hub: pages by prefix and position, its default, its checks, and the caller's prefixes.</summary>
/// <remarks>Pages run over every engine target: sensors published on node A, listed on node B.</remarks>
public sealed class ListSensorsTests(EngineFixture engines, ApplicationFixture apps) : IClassFixture<EngineFixture>, IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task PagesGoThroughAPrefixsSensorsInIdOrderWithTheirNewestReadings(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var root = Sensors.NewId("list") + "/";
        foreach (var (leaf, value) in new[] { ("d", 4.0), ("b/2", 3), ("a", 1), ("c", 5), ("b/1", 2) })
            await nodes.A.Engine.PublishAsync(root + leaf, 1, firstValue: value);
        await nodes.A.Engine.PublishAsync(Sensors.NewId("list"), 1);
        await using var connection = await nodes.B.ConnectAsync(protocol);

        var first = await connection.Hub.ListSensorsAsync(new SensorQuery { Prefix = root, Limit = 2 });
        var second = await connection.Hub.ListSensorsAsync(new SensorQuery { Prefix = root, After = first.Next, Limit = 2 });
        var last = await connection.Hub.ListSensorsAsync(new SensorQuery { Prefix = root, After = second.Next, Limit = 2 });

        Assert.Equal([root + "a", root + "b/1"], first.Sensors.Select(s => s.Id));
        Assert.Equal([root + "b/2", root + "c"], second.Sensors.Select(s => s.Id));
        Assert.Equal([root + "d"], last.Sensors.Select(s => s.Id));
        Assert.Equal((root + "b/1", root + "c", (string?)null), (first.Next, second.Next, last.Next));
        Assert.Equal([1.0, 2, 3, 5, 4], new[] { first, second, last }.SelectMany(p => p.Sensors).Select(s => s.LastValue!.Value));
        Assert.All(first.Sensors, s => Assert.Equal(DateTimeKind.Utc, s.LastTimestamp!.Value.Kind));
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task WithoutAQueryTheFirstPageHoldsTheDefaultNumberOfSensors(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        for (var i = 0; i <= SensorQuery.DefaultLimit; i++)
            await nodes.A.Engine.PublishAsync(Sensors.NewId("many"), 1);
        await using var connection = await nodes.B.ConnectAsync(protocol);

        var page = await connection.Hub.ListSensorsAsync(null);

        Assert.Equal(SensorQuery.DefaultLimit, page.Sensors.Length);
        Assert.Equal(page.Sensors[^1].Id, page.Next);
        Assert.Equal(page.Sensors.Select(s => s.Id).Order(StringComparer.Ordinal), page.Sensors.Select(s => s.Id));
    }

    public static TheoryData<Protocol, string, string> BadQueries
    {
        get
        {
            var data = new TheoryData<Protocol, string, string>();
            foreach (var protocol in Enum.GetValues<Protocol>())
            {
                data.Add(protocol, "limit 0", "query.limit must be from 1 to 1000; it was 0.");
                data.Add(protocol, "limit 1001", "query.limit must be from 1 to 1000; it was 1001.");
                data.Add(protocol, "prefix with a space", "query.prefix contains U+0020;");
                data.Add(protocol, "long after", "query.after is 5000 characters long; at most 128 are allowed.");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task AQueryOutOfItsRangeIsRefusedAndTheConnectionGoesOn(Protocol protocol, string bad, string text)
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        var query = bad switch
        {
            "limit 0" => new SensorQuery { Limit = 0 },
            "limit 1001" => new SensorQuery { Limit = 1001 },
            "prefix with a space" => new SensorQuery { Prefix = "plant 1/" },
            _ => new SensorQuery { After = new string('a', 5000) },
        };

        var error = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ListSensorsAsync(query));

        Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(error.Message));
        Assert.Contains($"[{SensorHubErrors.InvalidArgument}] {text}", error.Message, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        await connection.Hub.ListSensorsAsync(new SensorQuery { Limit = 1 });
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task ACallerBoundByPrefixesGetsFullPagesOfItsOwnSensorsOnly(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var root = Sensors.NewId("bound") + "/";
        // Theirs sort between mine, so that a page filled before filtering would come back short.
        foreach (var leaf in new[] { "a-theirs", "b-mine/1", "c-theirs", "d-theirs", "b-mine/2", "e-shared", "b-mine/3" })
            await nodes.A.Engine.PublishAsync(root + leaf, 1);
        await using var viewer = await nodes.B.ConnectAsync(protocol, new TestUser("vic", [Server.Identity.Roles.Viewer], [root + "b-mine/", root + "e-"]));

        var first = await viewer.Hub.ListSensorsAsync(new SensorQuery { Prefix = root, Limit = 2 });
        var second = await viewer.Hub.ListSensorsAsync(new SensorQuery { Prefix = root, After = first.Next, Limit = 2 });
        var everything = await viewer.Hub.ListAllSensorsAsync();

        Assert.Equal([root + "b-mine/1", root + "b-mine/2"], first.Sensors.Select(s => s.Id));
        Assert.Equal([root + "b-mine/3", root + "e-shared"], second.Sensors.Select(s => s.Id));
        Assert.Null(second.Next);
        Assert.Equal([root + "b-mine/1", root + "b-mine/2", root + "b-mine/3", root + "e-shared"], everything.Select(s => s.Id));
    }
}
