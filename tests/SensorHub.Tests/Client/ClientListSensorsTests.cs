using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>The SDK's sensor lists: every sensor across the server's pages, by prefix, and one page as the server gives it.</summary>
public sealed class ClientListSensorsTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ListSensorsGoesThroughEveryPageOfAPrefix(Protocol protocol)
    {
        var app = apps.Default;
        var root = Sensors.NewId("paged") + "/";
        // More than one page of the largest size, so the SDK must ask again from where the first ended.
        var ids = Enumerable.Range(0, SensorQuery.MaxLimit + 5).Select(i => $"{root}{i:D4}").ToList();
        foreach (var id in ids)
            await app.Engine.PublishAsync(id, 1);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var listed = await harness.Client.ListSensorsAsync(root, cts.Token);
        var everyone = await harness.Client.ListSensorsAsync(cts.Token);
        var page = await harness.Client.ListSensorsPageAsync(new SensorQuery { Prefix = root, After = ids[9], Limit = 3 }, cts.Token);

        Assert.Equal(ids, listed.Select(s => s.Id));
        Assert.Superset(ids.ToHashSet(), everyone.Select(s => s.Id).ToHashSet());
        Assert.Equal(everyone.Select(s => s.Id).Order(StringComparer.Ordinal), everyone.Select(s => s.Id));
        Assert.Equal(ids.Skip(10).Take(3), page.Sensors.Select(s => s.Id));
        Assert.Equal(ids[12], page.Next);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AMalformedPrefixIsTheServersRefusalWithItsCode(Protocol protocol)
    {
        await using var harness = await ClientHarness.StartAsync(apps.Default, protocol);

        var error = await Assert.ThrowsAsync<SensorHub.Client.SensorHubServerException>(() => harness.Client.ListSensorsAsync("plant 1/").WaitAsync(Timeouts.Default));

        Assert.Equal(SensorHubErrors.InvalidArgument, error.ErrorCode);
    }
}
