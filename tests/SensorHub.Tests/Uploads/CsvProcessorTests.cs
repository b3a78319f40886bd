using System.Text;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Tests.Uploads;

/// <summary>The CSV processor on the inputs issue 17 found rejected, and at its edges: headers it refuses, broken quoting, bounds, options.</summary>
public sealed class CsvProcessorTests
{
    [Fact]
    public async Task TheIssuesInputsAreRead()
    {
        using var wide = new CsvTestRun();
        using var reordered = new CsvTestRun();
        using var quoted = new CsvTestRun();
        using var semicolon = new CsvTestRun();

        var wideSummary = await wide.RunAsync("timestamp,plant-9/temp,plant-9/rh\n2026-11-30T03:00:00Z,21.5,40\n2026-11-30T03:01:00Z,21.6,41\n");
        var reorderedSummary = await reordered.RunAsync("timestamp,sensorId,value\n2026-11-30T03:00:00Z,plant-9/temp,21.5\n");
        var quotedSummary = await quoted.RunAsync("\"sensorId\",\"timestamp\",\"value\"\n\"plant-9/temp\",\"2026-11-30T03:00:00Z\",\"21.5\"\n");
        var semicolonSummary = await semicolon.RunAsync("sensorId;timestamp;value\nplant-9/x;2026-11-30T03:00:00Z;1,5\n");

        Assert.Equal(("wide", 2L, 4L, 0L), (wideSummary.Layout, wideSummary.Rows, wideSummary.Accepted, wideSummary.Rejected));
        Assert.Equal((1L, 1L, 0L), (reorderedSummary.Rows, reorderedSummary.Accepted, reorderedSummary.Rejected));
        Assert.Equal((1L, 1L, 0L), (quotedSummary.Rows, quotedSummary.Accepted, quotedSummary.Rejected));
        Assert.Equal((";", true, 1L, 1L, 0L), (semicolonSummary.Delimiter, semicolonSummary.Header, semicolonSummary.Rows, semicolonSummary.Accepted, semicolonSummary.Rejected));
        Assert.Equal(1.5, Assert.Single(await semicolon.ReadingsAsync("plant-9/x")).Value);
    }

    [Theory]
    [InlineData("sensorId,value,unit\ns,1,C\n", "the header names no timestamp column (timestamp, time or ts) among its 3 columns")]
    [InlineData("sensor,ts,reading,unit\ns,1796007600,1,C\n", "the header names a sensor id column but no value column")]
    [InlineData("ts,value,unit\n1796007600,1,C\n", "the header names a value column but no sensor id column")]
    public async Task HeaderThatCannotBeReadRejectsEveryRowSayingWhy(string text, string reason)
    {
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync(text);

        Assert.Equal(("", true, 1L, 0L, 1L), (summary.Layout, summary.Header, summary.Rows, summary.Accepted, summary.Rejected));
        Assert.StartsWith(reason, Assert.Single(summary.FirstRejections).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OldHeadersOfThreeColumnsKeepTheOldPositionalForm()
    {
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync("\"id\",\"time\",\"reading\"\ns2,1796007600,2\n");

        Assert.Equal(("long", true, 1L, 1L), (summary.Layout, summary.Header, summary.Rows, summary.Accepted));
    }

    [Theory]
    [InlineData("datetime,temp,rh\n2026-11-30T03:00:00Z,21.5,40\n")]
    [InlineData("Date,a,b\n2026-11-30T03:00:00Z,1,2\n")]
    [InlineData("\uFEFFZeit;t17/w1;t17/w2\r\n30.11.2026 04:00:00;1,5;2,5\r\n")]
    public async Task AHeaderOfThreeUnknownNamesIsRefusedNotReadPositionally(string text)
    {
        // A trial's European wide export was read as the old long form, its date taken for a sensor id.
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync(text);

        Assert.Equal(("", true, 1L, 0L, 1L), (summary.Layout, summary.Header, summary.Rows, summary.Accepted, summary.Rejected));
        var reason = Assert.Single(summary.FirstRejections).Reason;
        Assert.StartsWith("the header names no timestamp column (timestamp, time or ts) among its 3 columns", reason, StringComparison.Ordinal);
        Assert.Contains("not read positionally", reason, StringComparison.Ordinal);
        Assert.Contains("name the timestamp column timestamp, time or ts, or remove the header", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sensor,when,reading\n")]
    [InlineData("id,x,y\n")]
    [InlineData("name,when,value\n")]
    public async Task AHeaderWithOneKnownNameInTheOldPlaceKeepsThePositionalForm(string header)
    {
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync(header + "s2,1796007600,2\n");

        Assert.Equal(("long", true, 1L, 1L), (summary.Layout, summary.Header, summary.Rows, summary.Accepted));
    }

    [Fact]
    public async Task AHeaderlessFileOfThreeFieldsKeepsThePositionalForm()
    {
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync("s2,1796007600,2\ns3,1796007660,3\n");

        Assert.Equal(("long", false, 2L, 2L), (summary.Layout, summary.Header, summary.Rows, summary.Accepted));
    }

    [Fact]
    public async Task EveryRejectedWideCellNamesItsColumnAndAWholeRowRejectionNone()
    {
        // "Temp (C)" is no valid sensor id: the ingest refuses the cell, not the parse, and the column must still be named.
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync("timestamp,Temp (C),plant-9/rh\n2026-11-30T03:00:00Z,21.5,40\n2026-11-30T03:01:00Z,21.6,x\nnot a time,1,2\n");

        Assert.Equal(("wide", 3L, 1L, 4L), (summary.Layout, summary.Rows, summary.Accepted, summary.Rejected));
        Assert.Equal(
            [(2L, "Temp (C)"), (3L, "Temp (C)"), (3L, "plant-9/rh"), (4L, null)],
            summary.FirstRejections.Select(r => (r.Line, r.Column)));
        Assert.StartsWith("sensorId contains", summary.FirstRejections[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnterminatedQuoteCostsOneRecordNotTheRestOfTheFile()
    {
        using var csv = new CsvTestRun();
        var body = new StringBuilder("sensorId,timestamp,value,note\ns,1796007600,1,\"never closed\n");
        // More than the 64 KiB bound of rows after it: the quote would swallow all of them.
        for (var i = 0; i < 3_000; i++)
            body.Append($"s,{1796007600 + i + 1},{i},fine and long enough to pass the bound soon\n");

        var summary = await csv.RunAsync(body.ToString());

        var rejection = Assert.Single(summary.FirstRejections);
        Assert.Equal(2L, rejection.Line);
        Assert.StartsWith("the record is 64 KiB or longer", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal(1L, summary.Rejected);
        // The rows inside the 64 KiB the broken record took are lost with it; every one after is read.
        Assert.True(summary.Accepted > 1_000, $"{summary.Accepted} accepted");
        Assert.Equal(summary.Rows - 1, summary.Accepted);
    }

    [Fact]
    public async Task AQuoteStillOpenAtTheEndRejectsTheLastRecordOnly()
    {
        using var csv = new CsvTestRun();

        var summary = await csv.RunAsync("s,1796007600,1\ns,1796007601,\"2\n");

        Assert.Equal((2L, 1L, 1L), (summary.Rows, summary.Accepted, summary.Rejected));
        Assert.Equal("the file ends inside a quoted field (a quote that never closes)", Assert.Single(summary.FirstRejections).Reason);
    }

    [Fact]
    public async Task GivenDelimiterOverridesDetection()
    {
        using var piped = new CsvTestRun(new CsvOptions { Delimiter = "|" });
        using var detected = new CsvTestRun();

        var pipedSummary = await piped.RunAsync("sensorId|timestamp|value\np/a|1796007600|1.5\n");
        var commaInPipes = await detected.RunAsync("sensorId|timestamp|value\np/a|1796007600|1.5\n");

        Assert.Equal(("|", 1L, 1L), (pipedSummary.Delimiter, pipedSummary.Rows, pipedSummary.Accepted));
        Assert.Equal((",", 0L), (commaInPipes.Delimiter, commaInPipes.Accepted));
    }

    [Fact]
    public async Task WideFileOfThousandsOfColumnsPublishesEveryCell()
    {
        using var csv = new CsvTestRun();
        const int Columns = 2_000;
        var text = new StringBuilder("timestamp");
        for (var c = 0; c < Columns; c++)
            text.Append($",w/{c}");
        text.Append('\n');
        for (var r = 0; r < 5; r++)
        {
            text.Append(1796007600 + r);
            for (var c = 0; c < Columns; c++)
                text.Append(',').Append(c % 2 == 0 ? r.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            text.Append('\n');
        }

        var summary = await csv.RunAsync(text.ToString());

        Assert.Equal((5L, 5L * Columns / 2, 0L), (summary.Rows, summary.Accepted, summary.Rejected));
        Assert.Equal([0.0, 1, 2, 3, 4], (await csv.ReadingsAsync("w/1998")).Select(r => r.Value));
    }

    [Fact]
    public async Task AFailureInsideAWideRowResumesAtTheCellAfterTheLastOneHandled()
    {
        using var csv = new CsvTestRun();
        var bytes = Encoding.UTF8.GetBytes("timestamp,f/a,f/b,f/c\n1796007600,1,2,3\n1796007601,4,5,6\n");
        var calls = 0;
        var before = csv.Create();

        var failure = await Record.ExceptionAsync(() => before.ProcessAsync(
            bytes, new Publisher(null, _ => ++calls == 5 ? throw new IOException("away") : true), CancellationToken.None).AsTask());
        var checkpoint = before.Checkpoint;
        var after = csv.Create(from: checkpoint);
        await after.ProcessAsync(bytes.AsMemory((int)checkpoint.Bytes), Publisher.Server, CancellationToken.None);
        await after.CompleteAsync(Publisher.Server, CancellationToken.None);
        var summary = after.Summarize(new UploadResult()).Csv!;

        Assert.IsType<IOException>(failure);
        Assert.Equal(1, checkpoint.CsvState!.ReadingsDone);
        Assert.Equal((2L, 6L, 0L), (summary.Rows, summary.Accepted, summary.Rejected));
        Assert.Equal([1.0, 4], (await csv.ReadingsAsync("f/a")).Select(r => r.Value));
        Assert.Equal([2.0, 5], (await csv.ReadingsAsync("f/b")).Select(r => r.Value));
        Assert.Equal([3.0, 6], (await csv.ReadingsAsync("f/c")).Select(r => r.Value));
    }

    [Theory]
    [InlineData(":", null, null, null, "request.csv.delimiter must be one of")]
    [InlineData(null, "/x", null, null, "request.csv.sensorPrefix '/x' cannot start a sensor id")]
    [InlineData(null, "a b", null, null, "request.csv.sensorPrefix 'a b' cannot start a sensor id")]
    [InlineData(null, null, "Mars/Olympus", null, "request.csv.timeZone 'Mars/Olympus' is not an IANA time zone id")]
    [InlineData(null, null, null, "G", "request.csv.timestampFormat 'G' is neither")]
    [InlineData(null, null, null, "HH:mm", "request.csv.timestampFormat 'HH:mm' is neither")]
    public void BadOptionsAreRefusedNamingTheField(string? delimiter, string? prefix, string? zone, string? format, string problem)
    {
        var options = new CsvOptions { Delimiter = delimiter, SensorPrefix = prefix, TimeZone = zone, TimestampFormat = format };

        Assert.Null(CsvSettings.TryCreate(options, out var message));
        Assert.StartsWith(problem, message, StringComparison.Ordinal);
    }

    [Fact]
    public void GoodOptionsAreAccepted()
    {
        var settings = CsvSettings.TryCreate(
            new CsvOptions { Delimiter = "\t", SensorPrefix = "plant-9/", TimeZone = "Europe/Berlin", TimestampFormat = "yyyy-MM-dd HH:mm:ss" }, out var problem);

        Assert.Null(problem);
        Assert.Equal(('\t', "plant-9/", "Europe/Berlin"), (settings!.Delimiter, settings.SensorPrefix, settings.TimeZone!.Id));
    }
}
