using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Uploads.Processing;
using SensorHub.Tests.Feeds;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// One fixture file per CSV layout (written for these tests, under <c>Fixtures/csv</c>), each read whole by the
/// processor and held to its expected summary and the readings it publishes.
/// </summary>
public sealed class CsvFixtureTests
{
    private static readonly DateTime s_0300 = new(2026, 11, 30, 3, 0, 0, DateTimeKind.Utc);

    /// <summary>File, options, then the summary expected: layout, delimiter, header, rows, accepted, rejected, and the rejections' lines.</summary>
    public static TheoryData<string, CsvOptions?, string, string, bool, long, long, long, long[]> Fixtures => new()
    {
        { "long-reordered.csv", null, "long", ",", true, 3, 3, 0, [] },
        { "long-quoted.csv", null, "long", ",", true, 5, 3, 2, [5, 7] },
        { "wide.csv", null, "wide", ",", true, 4, 7, 1, [5] },
        { "wide-prefix.csv", new CsvOptions { SensorPrefix = "plant-9/" }, "wide", ",", true, 2, 4, 0, [] },
        { "semicolon.csv", null, "long", ";", true, 4, 3, 1, [5] },
        { "tab.tsv", null, "long", "\t", true, 2, 2, 0, [] },
        { "headerless.csv", null, "long", ",", false, 3, 3, 0, [] },
        { "unix.csv", null, "long", ",", true, 6, 5, 1, [6] },
        { "local-dst.csv", new CsvOptions { TimeZone = "Europe/Berlin", TimestampFormat = "dd.MM.yyyy HH:mm" }, "long", ",", true, 6, 5, 1, [6] },
        { "local-iso.csv", new CsvOptions { TimeZone = "America/New_York" }, "long", ",", true, 5, 5, 0, [] },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task FixtureGivesItsExpectedSummary(
        string file, CsvOptions? options, string layout, string delimiter, bool header, long rows, long accepted, long rejected, long[] rejectedLines)
    {
        using var csv = new CsvTestRun(options);

        var summary = await csv.RunAsync(CsvTestRun.Fixture(file));

        Assert.Equal((layout, delimiter, header), (summary.Layout, summary.Delimiter, summary.Header));
        Assert.Equal((rows, accepted, rejected), (summary.Rows, summary.Accepted, summary.Rejected));
        Assert.Equal(rejectedLines, summary.FirstRejections.Select(r => r.Line));
        // Fed a byte at a time, the same summary.
        using var again = new CsvTestRun(options);
        var byByte = await again.RunAsync(CsvTestRun.Fixture(file).Select(b => new[] { b }));
        Assert.Equal(summary.FirstRejections, byByte.FirstRejections);
        Assert.Equal((summary.Rows, summary.Accepted, summary.Rejected, summary.Layout), (byByte.Rows, byByte.Accepted, byByte.Rejected, byByte.Layout));
    }

    [Fact]
    public async Task LongColumnsAreFoundByNameInAnyOrderAndOthersIgnored()
    {
        using var csv = new CsvTestRun();
        await csv.RunAsync(CsvTestRun.Fixture("long-reordered.csv"));

        Assert.Equal([(s_0300, 21.5), (s_0300.AddMinutes(1), 21.75)], await csv.ReadingsAsync("plant-9/temp"));
        Assert.Equal([(s_0300, 40.0)], await csv.ReadingsAsync("plant-9/rh"));
    }

    [Fact]
    public async Task QuotedFieldsHoldDelimitersEscapedQuotesAndLineBreaks()
    {
        using var csv = new CsvTestRun();
        var summary = await csv.RunAsync(CsvTestRun.Fixture("long-quoted.csv"));

        Assert.Equal([(s_0300, 21.5), (s_0300.AddMinutes(1), 22), (s_0300.AddMinutes(3), 23)], await csv.ReadingsAsync("plant-9/temp"));
        Assert.Equal("value 'x' is not a number", summary.FirstRejections[0].Reason);
        // The escaped quote is unescaped into the id, which the shared rule then refuses.
        Assert.StartsWith("sensorId contains '\"'", summary.FirstRejections[1].Reason, StringComparison.Ordinal);
        Assert.All(summary.FirstRejections, r => Assert.Null(r.Column));
    }

    [Fact]
    public async Task WideRowsGiveOneReadingPerNonEmptyCellAndARejectedCellNamesItsColumn()
    {
        using var csv = new CsvTestRun();
        var summary = await csv.RunAsync(CsvTestRun.Fixture("wide.csv"));

        Assert.Equal([(s_0300, 21.5), (s_0300.AddMinutes(1), 21.6), (s_0300.AddMinutes(3), 21.8)], await csv.ReadingsAsync("plant-9/temp"));
        Assert.Equal([(s_0300, 40.0), (s_0300.AddMinutes(3), 41)], await csv.ReadingsAsync("plant-9/rh"));
        Assert.Equal([(s_0300, 410.0), (s_0300.AddMinutes(1), 415)], await csv.ReadingsAsync("plant-9/co2"));
        var rejection = Assert.Single(summary.FirstRejections);
        Assert.Equal((5L, "plant-9/co2", "value 'oops' is not a number"), (rejection.Line, rejection.Column, rejection.Reason));
    }

    [Fact]
    public async Task SensorPrefixGoesBeforeWideColumnNamesAndLongIds()
    {
        using var wide = new CsvTestRun(new CsvOptions { SensorPrefix = "plant-9/" });
        using var longForm = new CsvTestRun(new CsvOptions { SensorPrefix = "site-1/" });

        await wide.RunAsync(CsvTestRun.Fixture("wide-prefix.csv"));
        await longForm.RunAsync(CsvTestRun.Fixture("headerless.csv"));

        Assert.Equal([(s_0300, 21.5), (s_0300.AddMinutes(1), 21.75)], await wide.ReadingsAsync("plant-9/temp"));
        Assert.Equal([(s_0300, 40.0), (s_0300.AddMinutes(1), 41)], await wide.ReadingsAsync("plant-9/rh"));
        Assert.Equal(3, (await longForm.ReadingsAsync("site-1/plant-9/h")).Count);
    }

    [Fact]
    public async Task SemicolonFilesTakeDecimalCommas()
    {
        using var csv = new CsvTestRun();
        var summary = await csv.RunAsync(CsvTestRun.Fixture("semicolon.csv"));

        Assert.Equal([1.5, -2.25, 3], (await csv.ReadingsAsync("plant-9/x")).Select(r => r.Value));
        Assert.Equal("value '1,234,5' is not a number", Assert.Single(summary.FirstRejections).Reason);
    }

    [Fact]
    public async Task UnixTimesAreSecondsBelowTenToTheElevenAndMillisecondsFromThere()
    {
        using var csv = new CsvTestRun();
        var summary = await csv.RunAsync(CsvTestRun.Fixture("unix.csv"));

        Assert.Equal(
            [
                (s_0300, 1),
                (s_0300.AddMilliseconds(250), 2),
                (s_0300.AddMilliseconds(500), 3),
                (new DateTime(1973, 3, 3, 9, 46, 40, DateTimeKind.Utc), 4),
                (new DateTime(1969, 12, 31, 0, 0, 0, DateTimeKind.Utc), 6),
            ],
            await csv.ReadingsAsync("plant-9/u"));
        // 99999999999 is still seconds: the year 5138, which the server's clock refuses.
        Assert.Contains("ahead of the server's clock", Assert.Single(summary.FirstRejections).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalTimesAcrossDstChangesTakeTheEarlierOfTwoAndRejectOneThatNeverWas()
    {
        using var csv = new CsvTestRun(new CsvOptions { TimeZone = "Europe/Berlin", TimestampFormat = "dd.MM.yyyy HH:mm" });
        var summary = await csv.RunAsync(CsvTestRun.Fixture("local-dst.csv"));

        Assert.Equal(
            [
                (new DateTime(2026, 10, 24, 23, 30, 0, DateTimeKind.Utc), 1),
                // 02:30 happened twice that night: the first one, still summer time (+02:00).
                (new DateTime(2026, 10, 25, 0, 30, 0, DateTimeKind.Utc), 2),
                (new DateTime(2026, 10, 25, 2, 30, 0, DateTimeKind.Utc), 3),
                (new DateTime(2026, 3, 29, 0, 30, 0, DateTimeKind.Utc), 4),
                (new DateTime(2026, 3, 29, 1, 30, 0, DateTimeKind.Utc), 6),
            ],
            await csv.ReadingsAsync("plant-9/l"));
        Assert.Equal(
            "timestamp '29.03.2026 02:30' is a local time that does not exist in Europe/Berlin (skipped when the clocks went forward)",
            Assert.Single(summary.FirstRejections).Reason);
    }

    [Fact]
    public async Task IsoTimesWithoutAnOffsetAreInTheTimeZoneAndThoseWithOneKeepIt()
    {
        using var csv = new CsvTestRun(new CsvOptions { TimeZone = "America/New_York" });
        await csv.RunAsync(CsvTestRun.Fixture("local-iso.csv"));

        Assert.Equal(
            [
                (new DateTime(2026, 11, 1, 5, 30, 0, DateTimeKind.Utc), 1),
                (new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc), 2),
                (s_0300, 3),
                (s_0300.AddHours(-1), 4),
                (s_0300, 5),
            ],
            await csv.ReadingsAsync("plant-9/n"));
    }
}

/// <summary>A CSV processor over a real ingest and the in-memory engine, on a clock fixed at 2027-01-01 (after every fixture's timestamps).</summary>
internal sealed class CsvTestRun : IDisposable
{
    public static readonly DateTimeOffset Now = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ReadingIngest _ingest;
    private readonly CsvOptions? _options;

    public CsvTestRun(CsvOptions? options = null)
    {
        _options = options;
        var time = new FakeTimeProvider(Now);
        Harness = new EngineHarness(time: time);
        _ingest = new ReadingIngest(Harness.Engine, Harness.Options, Harness.Refusals, time, NullLogger<ReadingIngest>.Instance);
    }

    public EngineHarness Harness { get; }

    public static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Uploads", "Fixtures", "csv", name));

    public CsvProcessor Create(int maxSamples = 10, ProcessingCheckpoint? from = null) => new(_ingest, maxSamples, from, null, _options);

    public Task<CsvSummary> RunAsync(string text, int maxSamples = 10) => RunAsync([Encoding.UTF8.GetBytes(text)], maxSamples);

    public Task<CsvSummary> RunAsync(byte[] bytes, int maxSamples = 10) => RunAsync([bytes], maxSamples);

    public async Task<CsvSummary> RunAsync(IEnumerable<byte[]> chunks, int maxSamples = 10)
    {
        var processor = Create(maxSamples);
        foreach (var chunk in chunks)
            await processor.ProcessAsync(chunk, Publisher.Server, CancellationToken.None);
        await processor.CompleteAsync(Publisher.Server, CancellationToken.None);
        return processor.Summarize(new UploadResult()).Csv!;
    }

    public async Task<List<(DateTime Timestamp, double Value)>> ReadingsAsync(string sensorId) =>
        [.. (await Harness.History.ReadAsync(sensorId, 0, 10_000, CancellationToken.None)).Select(r => (r.Timestamp, r.Value))];

    public void Dispose() => Harness.Dispose();
}
