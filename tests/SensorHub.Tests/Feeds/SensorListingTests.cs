using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>The engine's pages of sensors (prefix, position, size, what the caller may see) and the checks of a query.</summary>
public sealed class SensorListingTests
{
    private static readonly string[] s_ids = ["a", "a/1", "a/10", "a/2", "a0", "b/1", "b/2", "c", "plant-1/x", "plant-10/y"];

    [Fact]
    public async Task PagesGoThroughEverySensorInOrdinalIdOrderEachOnce()
    {
        using var harness = await WithSensorsAsync(s_ids);

        var pages = await PagesAsync(harness, "", limit: 3);

        Assert.Equal(s_ids.Order(StringComparer.Ordinal), pages.SelectMany(p => p.Sensors).Select(s => s.Id));
        Assert.Equal([3, 3, 3, 1], pages.Select(p => p.Sensors.Length));
        Assert.Equal(["a/10", "b/1", "plant-1/x", null], pages.Select(p => p.Next));
    }

    [Fact]
    public async Task APrefixPageHoldsOnlyTheSensorsThatStartWithIt()
    {
        using var harness = await WithSensorsAsync(s_ids);

        var a = await PagesAsync(harness, "a/", limit: 2);
        var plant1 = await PagesAsync(harness, "plant-1/", limit: 10);
        var none = await PagesAsync(harness, "zz", limit: 10);

        Assert.Equal(["a/1", "a/10", "a/2"], a.SelectMany(p => p.Sensors).Select(s => s.Id));
        Assert.Equal(["plant-1/x"], plant1.SelectMany(p => p.Sensors).Select(s => s.Id));
        var nothing = Assert.Single(none);
        Assert.Empty(nothing.Sensors);
        Assert.Null(nothing.Next);
    }

    [Fact]
    public async Task AnExactPageSaysThereIsNoMoreOnlyWhenNoneFollows()
    {
        using var harness = await WithSensorsAsync(["x/1", "x/2", "y"]);

        var exact = await harness.Engine.ListSensorsAsync("x/", null, 2, null, CancellationToken.None);
        var withMore = await harness.Engine.ListSensorsAsync("", null, 2, null, CancellationToken.None);

        Assert.Null(exact.Next);
        Assert.Equal("x/2", withMore.Next);
    }

    [Fact]
    public async Task AfterAPositionPastEverySensorThePageIsEmptyAndLast()
    {
        using var harness = await WithSensorsAsync(s_ids);

        var page = await harness.Engine.ListSensorsAsync("", "zzz", 5, null, CancellationToken.None);
        var afterUnknown = await harness.Engine.ListSensorsAsync("", "a/15", 2, null, CancellationToken.None);

        Assert.Equal((0, (string?)null), (page.Sensors.Length, page.Next));
        // A position need not be a sensor that exists (it may have gone meanwhile): the page goes on from where it would be.
        Assert.Equal(["a/2", "a0"], afterUnknown.Sensors.Select(s => s.Id));
    }

    [Fact]
    public async Task WhatTheCallerMayNotSeeIsLeftOutAndThePageIsFilledWithWhatItMay()
    {
        using var harness = await WithSensorsAsync(s_ids);
        Predicate<string> mayRead = id => id.StartsWith("b/", StringComparison.Ordinal) || id == "c";

        var pages = await PagesAsync(harness, "", limit: 2, mayRead);

        Assert.Equal(["b/1", "b/2", "c"], pages.SelectMany(p => p.Sensors).Select(s => s.Id));
        Assert.Equal([2, 1], pages.Select(p => p.Sensors.Length));
    }

    [Fact]
    public async Task EachSensorComesWithItsNewestReading()
    {
        using var harness = new EngineHarness();
        var readings = await harness.Engine.PublishAsync("s/1", 3, firstValue: 5);

        var sensor = (await harness.Engine.ListSensorsAsync("s/", null, 1, null, CancellationToken.None)).Sensors.Single();

        Assert.Equal((readings[^1].Sequence, 7.0, readings[^1].Timestamp), (sensor.LastSequence, sensor.LastValue!.Value, sensor.LastTimestamp!.Value));
    }

    [Theory]
    [InlineData(null, null, null, "", null, SensorQuery.DefaultLimit)]
    [InlineData("plant-1/", "plant-1/a", 1, "plant-1/", "plant-1/a", 1)]
    [InlineData("", null, SensorQuery.MaxLimit, "", null, SensorQuery.MaxLimit)]
    public void AQueryIsReadWithItsDefaults(string? prefix, string? after, int? limit, string expectedPrefix, string? expectedAfter, int expectedLimit)
    {
        var query = prefix is null && after is null && limit is null ? null : new SensorQuery { Prefix = prefix, After = after, Limit = limit };

        Assert.Equal((expectedPrefix, expectedAfter, expectedLimit), SensorQueries.Check(query));
    }

    [Theory]
    [InlineData(null, null, 0, "query.limit must be from 1 to 1000; it was 0.")]
    [InlineData(null, null, 1001, "query.limit must be from 1 to 1000; it was 1001.")]
    [InlineData("plant 1", null, null, "query.prefix contains U+0020;")]
    [InlineData(null, "a*", null, "query.after contains '*';")]
    public void AFieldOutOfItsRangeIsAnInvalidArgumentThatNamesIt(string? prefix, string? after, int? limit, string text)
    {
        var error = Assert.Throws<SensorHubException>(() => SensorQueries.Check(new SensorQuery { Prefix = prefix, After = after, Limit = limit }));

        Assert.Equal(SensorHubErrors.InvalidArgument, error.Code);
        Assert.StartsWith(text, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APrefixOrPositionLongerThanAnIdIsRefused()
    {
        var prefix = Assert.Throws<SensorHubException>(() => SensorQueries.Check(new SensorQuery { Prefix = new string('p', 129) }));
        var after = Assert.Throws<SensorHubException>(() => SensorQueries.Check(new SensorQuery { After = new string('a', 100_000) }));

        Assert.StartsWith("query.prefix is 129 characters long; at most 128", prefix.Message, StringComparison.Ordinal);
        Assert.StartsWith("query.after is 100000 characters long; at most 128", after.Message, StringComparison.Ordinal);
    }

    internal static async Task<List<SensorPage>> PagesAsync(EngineHarness harness, string prefix, int limit, Predicate<string>? visible = null)
    {
        var pages = new List<SensorPage>();
        string? after = null;
        do
        {
            var page = await harness.Engine.ListSensorsAsync(prefix, after, limit, visible, CancellationToken.None);
            Assert.InRange(page.Sensors.Length, 0, limit);
            pages.Add(page);
            after = page.Next;
            Assert.True(pages.Count <= 1_000, "the pages never end");
        }
        while (after is not null);
        return pages;
    }

    private static async Task<EngineHarness> WithSensorsAsync(IEnumerable<string> ids)
    {
        var harness = new EngineHarness();
        // Registered in an order that is not the ids' order, so that the pages' order is the engine's doing.
        foreach (var id in ids.Reverse())
            await harness.Engine.PublishAsync(id, 1);
        return harness;
    }
}
