using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Uploads.Processing;
using SensorHub.Tests.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>The upload processors on their own, without a server: level tokens, line cutting, CSV rows.</summary>
public sealed class ProcessingTests
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Publisher s_anySensor = Publisher.Server;

    // ---- LogProcessor.LevelOf ----

    public static TheoryData<string, string> Levels => new()
    {
        { "[ERROR] x", "Error" },
        { "level=ERROR", "Error" },
        { "ERROR", "Error" },
        { "\tERROR\t", "Error" },
        { "ERROR-1 disk", "Error" },
        { "x:ERROR:y", "Error" },
        { "ERRORS", "None" },
        { "_ERROR", "None" },
        { "ERROR_", "None" },
        { "xERROR", "None" },
        { "ERRORx", "None" },
        { "1ERROR", "None" },
        { "ERROR1", "None" },
        { "error", "None" },
        { "Error: lower case is no token", "None" },
        { "ERRERROR", "None" },
        { "ERRORERROR ERROR", "Error" },
        { "WARNING: a", "Warning" },
        { "WARNING", "Warning" },
        { "WARN", "Warning" },
        { "[WARN] b", "Warning" },
        { "WARNINGS ERROR", "Error" },
        { "WARN_ING ERROR", "Error" },
        { "WARNWARNING INFO", "Info" },
        { "INFOERROR WARN", "Warning" },
        { "INFO", "Info" },
        { "INFO ERROR", "Info" },
        { "WARN then INFO then ERROR", "Warning" },
        { "ERROR then WARNING", "Error" },
        { "é ERROR", "Error" },
        { "éERROR", "None" },
        { "ERRORé", "None" },
        { "日本ERROR", "None" },
        { "日本 ERROR", "Error" },
        { "٣ERROR", "None" },
        { "“ERROR”", "Error" },
        { "", "None" },
        { "   ", "None" },
        { "no level here", "None" },
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public void LevelIsTheEarliestTokenThatStandsAlone(string line, string level) =>
        Assert.Equal(level, LogProcessor.LevelOf(line).ToString());

    [Fact]
    public void LetterOutsideTheBasicPlaneIsALetterNeighbour()
    {
        // U+1D400 MATHEMATICAL BOLD CAPITAL A and U+10400 DESERET CAPITAL LONG I are letters (Lu).
        Assert.Equal("None", LogProcessor.LevelOf("\U0001D400ERROR").ToString());
        Assert.Equal("None", LogProcessor.LevelOf("ERROR\U00010400").ToString());
    }

    [Fact]
    public async Task LogSummaryCountsEveryLineOnceAndListsTheFirstErrors()
    {
        var processor = new LogProcessor(maxSamples: 2);
        var text = "INFO a\nERROR b\n\nWARN c\nERROR d\nplain\nERROR e";
        foreach (var b in Encoding.UTF8.GetBytes(text))
            await processor.ProcessAsync(new[] { b }, publisher: null, CancellationToken.None);
        await processor.CompleteAsync(publisher: null, CancellationToken.None);

        var log = processor.Summarize(new UploadResult()).Log!;

        // The blank line is no entry: "plain" is the only other.
        Assert.Equal((7L, 6L, 3L, 1L, 1L, 1L), (log.Lines, log.Entries, log.Errors, log.Warnings, log.Infos, log.Other));
        Assert.Equal([(2L, "ERROR b"), (5L, "ERROR d")], log.FirstErrors.Select(e => (e.Line, e.Text)));
    }

    // ---- LineAssembler ----

    private const string MixedText =
        "first line\r\n" +
        "ünïcödé – ✓ 𝄞 at the end\n" +
        "\n" +
        "\r\n" +
        "a lone \r in the middle\n" +
        "last line without newline €";

    [Fact]
    public void LinesAreTheSameFedByteByByteInChunksOrWhole()
    {
        var bytes = Encoding.UTF8.GetBytes(MixedText);

        var whole = Assemble([bytes]);
        var byteByByte = Assemble(bytes.Select(b => new[] { b }));
        var inThrees = Assemble(bytes.Chunk(3));
        var withEmptyChunks = Assemble(bytes.Chunk(5).SelectMany(c => new[] { Array.Empty<byte>(), c }));

        Assert.Equal(
            [
                (1L, "first line"), (2L, "ünïcödé – ✓ 𝄞 at the end"), (3L, ""), (4L, ""), (5L, "a lone \r in the middle"),
                (6L, "last line without newline €"),
            ],
            whole);
        Assert.Equal(whole, byteByByte);
        Assert.Equal(whole, inThrees);
        Assert.Equal(whole, withEmptyChunks);
    }

    [Fact]
    public void CarriageReturnIsStrippedAlsoWhenItEndsAChunk()
    {
        Assert.Equal([(1L, "a"), (2L, "b")], Assemble([Encoding.UTF8.GetBytes("a\r"), Encoding.UTF8.GetBytes("\nb\r\n")]));
        Assert.Equal([(1L, "a"), (2L, "")], Assemble([Encoding.UTF8.GetBytes("a\r\n\r\n")]));
    }

    [Fact]
    public void LeadingByteOrderMarkIsSkippedAndALaterOneIsKept()
    {
        var bom = Encoding.UTF8.Preamble.ToArray();
        var bytes = bom.Concat(Encoding.UTF8.GetBytes("ERROR one\n")).Concat(bom).Concat(Encoding.UTF8.GetBytes("two")).ToArray();

        var lines = Assemble([bytes]);

        Assert.Equal([(1L, "ERROR one"), (2L, "\uFEFFtwo")], lines);
        Assert.Equal(lines, Assemble([[], bytes]));
    }

    [Fact]
    public void LeadingByteOrderMarkSplitAcrossChunksIsSkipped()
    {
        var bytes = Encoding.UTF8.Preamble.ToArray().Concat(Encoding.UTF8.GetBytes("plant-1/t,1700000000000,1\n")).ToArray();

        Assert.Equal([(1L, "plant-1/t,1700000000000,1")], Assemble(bytes.Select(b => new[] { b })));
        Assert.Equal([(1L, "plant-1/t,1700000000000,1")], Assemble(bytes.Chunk(2)));
    }

    [Fact]
    public void LineLongerThanTheLimitCountsAsOneLineCutToTheLimit()
    {
        var longLine = new string('x', LineAssembler.MaxLineBytes * 2 + 5);
        var bytes = Encoding.UTF8.GetBytes($"{longLine}\r\nnext\n{longLine}");

        var whole = Assemble([bytes]);
        var chunked = Assemble(bytes.Chunk(1000));

        Assert.Equal(3, whole.Count);
        Assert.Equal([1L, 2L, 3L], whole.Select(l => l.Number));
        Assert.Equal(new string('x', LineAssembler.MaxLineBytes), whole[0].Text);
        Assert.Equal("next", whole[1].Text);
        Assert.Equal(new string('x', LineAssembler.MaxLineBytes), whole[2].Text);
        Assert.Equal(whole, chunked);
    }

    [Fact]
    public void LineCountIsTheNumberOfTheLastLine()
    {
        var assembler = new LineAssembler();
        assembler.Feed("a\nb\nc"u8, (_, _) => { });
        Assert.Equal(2, assembler.Lines);
        assembler.Complete((_, _) => { });
        Assert.Equal(3, assembler.Lines);
        assembler.Complete((_, _) => { });
        Assert.Equal(3, assembler.Lines);
    }

    [Fact]
    public void AnAssemblerMadeAtTheEndOfTheLastCompleteLineGoesOnWithTheSameLines()
    {
        var bytes = Encoding.UTF8.GetBytes(MixedText);
        var whole = Assemble([bytes]);

        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var lines = new List<(long, string)>();
            var first = new LineAssembler();
            first.Feed(bytes.AsSpan(0, cut), (line, number) => lines.Add((number, line.ToString())));
            var end = (int)first.LineEnd;
            Assert.True(end == 0 || bytes[end - 1] == (byte)'\n', $"Cut at {cut}: {end} is not the end of a line.");
            Assert.Equal(-1, bytes.AsSpan(end, cut - end).IndexOf((byte)'\n'));

            var next = new LineAssembler(first.Lines, first.LineEnd);
            next.Feed(bytes.AsSpan(end), (line, number) => lines.Add((number, line.ToString())));
            next.Complete((line, number) => lines.Add((number, line.ToString())));

            Assert.Equal(whole, lines);
            Assert.Equal(bytes.Length, next.LineEnd);
        }
    }

    private static List<(long Number, string Text)> Assemble(IEnumerable<byte[]> chunks)
    {
        var assembler = new LineAssembler();
        var lines = new List<(long, string)>();
        foreach (var chunk in chunks)
            assembler.Feed(chunk, (line, number) => lines.Add((number, line.ToString())));
        assembler.Complete((line, number) => lines.Add((number, line.ToString())));
        return lines;
    }

    // ---- CsvProcessor ----

    [Fact]
    public async Task HeaderIsOnlyLineOneAndOnlyWhenItsValueColumnIsNotANumber()
    {
        using var csv = new CsvRun();

        var withHeader = await csv.RunAsync("sensorId,timestamp,value\ns1,1700000000000,1\nsensorId,timestamp,value\n");
        var quotedHeader = await csv.RunAsync("\"id\",\"time\",\"reading\"\ns2,1700000000000,2\n");
        var numericFirstLine = await csv.RunAsync("s3,1700000000000,3\ns3,1700000000001,4\n");
        var numericFirstLineBadTimestamp = await csv.RunAsync("s4,yesterday,5\n");
        var headerOnLineTwo = await csv.RunAsync("\nsensorId,timestamp,value\ns5,1700000000000,6");

        Assert.Equal((2L, 1L, 1L), Counts(withHeader));
        Assert.Equal([(3L, "timestamp 'timestamp' is neither ISO 8601 nor a Unix time in seconds or milliseconds")], Rejections(withHeader));
        Assert.Equal((1L, 1L, 0L), Counts(quotedHeader));
        Assert.Equal((2L, 2L, 0L), Counts(numericFirstLine));
        Assert.Equal([3.0, 4.0], (await csv.PublishedAsync("s3")).Select(r => r.Value));
        Assert.Equal((1L, 0L, 1L), Counts(numericFirstLineBadTimestamp));
        Assert.Equal([1L], numericFirstLineBadTimestamp.FirstRejections.Select(r => r.Line));
        Assert.Equal((2L, 1L, 1L), Counts(headerOnLineTwo));
        Assert.Equal([2L], headerOnLineTwo.FirstRejections.Select(r => r.Line));
    }

    [Fact]
    public async Task BlankLinesAreSkippedAndNotCountedButKeepTheLineNumbers()
    {
        using var csv = new CsvRun();

        var summary = await csv.RunAsync("\n\r\ns1,1700000000000,1\n   \n\t\r\ns1,oops,2\n\ns1,1700000000002,3\n\n");

        Assert.Equal((3L, 2L, 1L), Counts(summary));
        Assert.Equal([6L], summary.FirstRejections.Select(r => r.Line));
        Assert.Equal([1.0, 3.0], (await csv.PublishedAsync("s1")).Select(r => r.Value));
    }

    [Fact]
    // Issue 17 changed one line: -1000 was milliseconds, and is now seconds (a magnitude below 10^11).
    public async Task UnixMillisecondsAndIso8601WithOffsetsBecomeUtc()
    {
        using var csv = new CsvRun();
        var text = string.Join('\n',
            "t,1700000000000,1",
            "t,-1000,2",
            "t,2024-03-01T12:00:00+02:00,3",
            "t,2024-03-01T12:00:00-05:30,4",
            "t,2024-03-01T12:00:00Z,5",
            "t,2024-03-01T12:00:00,6",
            "t,2024-03-01T12:00:00.123Z,7",
            "t,2024-03-01 12:00:00+01:00,8",
            "t,1700000000000.5,9");

        var summary = await csv.RunAsync(text);
        var readings = await csv.PublishedAsync("t");

        Assert.Equal((9L, 8L, 1L), Counts(summary));
        Assert.Equal([(9L, "timestamp '1700000000000.5' is a Unix time in milliseconds (its magnitude is 10^11 or more) with a fraction")], Rejections(summary));
        Assert.Equal(
            [
                new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc),
                new DateTime(1969, 12, 31, 23, 43, 20, DateTimeKind.Utc),
                new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc),
                new DateTime(2024, 3, 1, 17, 30, 0, DateTimeKind.Utc),
                new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Utc),
                new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Utc),
                new DateTime(2024, 3, 1, 12, 0, 0, 123, DateTimeKind.Utc),
                new DateTime(2024, 3, 1, 11, 0, 0, DateTimeKind.Utc),
            ],
            readings.Select(r => r.Timestamp));
        Assert.All(readings, r => Assert.Equal(DateTimeKind.Utc, r.Timestamp.Kind));
        Assert.Equal([1.0, 2, 3, 4, 5, 6, 7, 8], readings.Select(r => r.Value));
    }

    [Fact]
    public async Task RejectedRowsAreCountedWithTheirLineNumbersAndReasons()
    {
        using var csv = new CsvRun();
        var soon = s_now.AddMinutes(59).ToUnixTimeMilliseconds();
        var tooLate = s_now.AddHours(2).ToUnixTimeMilliseconds();
        // One row per chunk, so that the order of the rejections is the order of the lines.
        string[] rows =
        [
            "sensorId,timestamp,value",
            "r,1700000000000,1",
            "r,1700000000000",
            "r,1700000000000,1,extra",
            "r,yesterday,1",
            "r,1700000000000,abc",
            "bad*id,1700000000000,1",
            "/r,1700000000000,1",
            ",1700000000000,1",
            "r,1700000000000,NaN",
            "r,1700000000000,Infinity",
            $"r,{tooLate},1",
            $"r,{soon},2",
            "",
        ];

        var summary = await csv.RunAsync(rows.Select(r => r + "\n"), maxSamples: 20);

        Assert.Equal((12L, 2L, 10L), Counts(summary));
        Assert.Equal(
            [
                (3L, "expected 3 fields (sensorId,timestamp,value), found 2"),
                (4L, "expected 3 fields (sensorId,timestamp,value), found more than 3"),
                (5L, "timestamp 'yesterday' is neither ISO 8601 nor a Unix time in seconds or milliseconds"),
                (6L, "value 'abc' is not a number"),
                (7L, "sensorId contains '*'"),
                (8L, "sensorId must not start with '/'"),
                (9L, "sensorId is empty"),
                (10L, "value is NaN"),
                (11L, "value is infinite"),
                (12L, "is more than 01:00:00 ahead of the server's clock"),
            ],
            summary.FirstRejections.Select(r => (r.Line, Short(r.Reason))));
        Assert.Equal([1.0, 2.0], (await csv.PublishedAsync("r")).Select(r => r.Value));
        Assert.Contains($"timestamp {s_now.AddHours(2).UtcDateTime:O} is more than", summary.FirstRejections[9].Reason, StringComparison.Ordinal);

        // The reason up to its explanation, which the assertion leaves to the shared rule's wording.
        static string Short(string reason)
        {
            var semicolon = reason.IndexOf(';', StringComparison.Ordinal);
            if (semicolon >= 0)
                return reason[..semicolon];
            var skew = reason.IndexOf("is more than", StringComparison.Ordinal);
            return skew >= 0 ? reason[skew..reason.IndexOf(" (", StringComparison.Ordinal)] : reason;
        }
    }

    [Fact]
    public async Task LongBadFieldIsQuotedOnlyInPart()
    {
        using var csv = new CsvRun();

        var summary = await csv.RunAsync($"r,1700000000000,1\nr,1700000000000,{new string('x', 500)}\n");

        var reason = Assert.Single(summary.FirstRejections).Reason;
        Assert.StartsWith($"value '{new string('x', 64)}…'", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstRejectionsAreInLineOrderWhateverTheChunks()
    {
        using var csv = new CsvRun();
        const string text = "bad*id,1700000000000,1\nr,yesterday,1\nr,1700000000000,NaN\nr,1700000000000,abc\n";

        var whole = await csv.RunAsync(text, maxSamples: 2);
        var byLine = await csv.RunAsync(text.Split('\n').Select(l => l + "\n"), maxSamples: 2);

        Assert.Equal([1L, 2L], byLine.FirstRejections.Select(r => r.Line));
        Assert.Equal([1L, 2L], whole.FirstRejections.Select(r => r.Line));
    }

    [Fact]
    public async Task QuotedAndPaddedFieldsAreRead()
    {
        using var csv = new CsvRun();

        var summary = await csv.RunAsync("\"q\",\"1700000000000\",\"1.5\"\r\n q , 2024-03-01T12:00:00Z , -2.5e1 \r\n\"q\",\"2024-03-01T12:00:01Z\",\"x\"\r\n");

        Assert.Equal((3L, 2L, 1L), Counts(summary));
        Assert.Equal([(3L, "value 'x' is not a number")], Rejections(summary));
        Assert.Equal([1.5, -25.0], (await csv.PublishedAsync("q")).Select(r => r.Value));
    }

    [Fact]
    public async Task FirstRejectionsAreCappedAtMaxSamplesButAllAreCounted()
    {
        using var csv = new CsvRun();
        var text = "sensorId,timestamp,value\n" + string.Concat(Enumerable.Range(0, 25).Select(i => $"c,1700000000000,bad{i}\n"));

        var three = await csv.RunAsync(text, maxSamples: 3);
        var none = await csv.RunAsync(text, maxSamples: 0);

        Assert.Equal((25L, 0L, 25L), Counts(three));
        Assert.Equal([2L, 3L, 4L], three.FirstRejections.Select(r => r.Line));
        Assert.Equal((25L, 0L, 25L), Counts(none));
        Assert.Empty(none.FirstRejections);
    }

    [Fact]
    public async Task ReplayedWithoutAPublisherRowsAreCountedAsAcceptedButNothingIsPublished()
    {
        using var csv = new CsvRun();
        var text = "sensorId,timestamp,value\nquiet,1700000000000,1\nquiet,1700000000001,2\nquiet,1700000000002,NaN\nquiet,nope,3\n";

        var summary = await csv.RunAsync(text, publishes: false);

        Assert.Equal((4L, 2L, 2L), Counts(summary));
        Assert.Equal([4L, 5L], summary.FirstRejections.Select(r => r.Line).Order());
        Assert.Null(await csv.Harness.Engine.FindSensorAsync("quiet", CancellationToken.None));
        Assert.Empty(await csv.PublishedAsync("quiet"));
        Assert.Equal(0, csv.Harness.Engine.GetCounters().Published);
    }

    [Fact]
    public async Task RowsSplitAcrossChunksGiveTheSameSummaryAsWhole()
    {
        using var csv = new CsvRun();
        var text = "sensorId,timestamp,value\r\n" + string.Concat(Enumerable.Range(0, 40).Select(i =>
            i % 7 == 3 ? $"split,{1700000000000 + i},nan{i}\r\n" : $"split,{1700000000000 + i},{i}.25\r\n"));
        var bytes = Encoding.UTF8.GetBytes(text);

        var whole = await csv.RunAsync([text]);
        var byteByByte = await csv.RunAsync(bytes.Select(b => new[] { b }));

        Assert.Equal((40L, 34L, 6L), Counts(whole));
        Assert.Equal(Counts(whole), Counts(byteByByte));
        Assert.Equal(Rejections(whole), Rejections(byteByByte));
        var published = await csv.PublishedAsync("split");
        Assert.Equal(68, published.Count);
        Sensors.AssertConsecutive(published);
    }

    [Fact]
    public async Task LastRowWithoutNewlineWaitsForTheEnd()
    {
        using var csv = new CsvRun();
        var processor = csv.Create(maxSamples: 10);

        await processor.ProcessAsync("end,1700000000000,1\nend,1700000000001,2"u8.ToArray(), s_anySensor, CancellationToken.None);
        var before = processor.Summarize(new UploadResult()).Csv!;
        await processor.CompleteAsync(s_anySensor, CancellationToken.None);
        var after = processor.Summarize(new UploadResult()).Csv!;

        Assert.Equal((1L, 1L, 0L), Counts(before));
        Assert.Equal((2L, 2L, 0L), Counts(after));
        Assert.Equal([1.0, 2.0], (await csv.PublishedAsync("end")).Select(r => r.Value));
    }

    [Fact]
    public async Task ACsvProcessorMadeFromACheckpointGoesOnAsIfItHadNeverStopped()
    {
        var text = "\uFEFFsensorId,timestamp,value\r\n" + string.Concat(Enumerable.Range(0, 12).Select(i =>
            i % 5 == 2 ? $"cp,{1700000000000 + i},bad{i}\r\n\r\n" : $"cp,{1700000000000 + i},{i}\r\n")) + "cp,1700000000099,99";
        var chunks = Encoding.UTF8.GetBytes(text).Chunk(7).ToArray();
        using var reference = new CsvRun();
        var uninterrupted = await reference.RunAsync(chunks, maxSamples: 2);
        var published = (await reference.PublishedAsync("cp")).Select(r => r.Value).ToList();

        for (var stop = 0; stop <= chunks.Length; stop++)
        {
            using var csv = new CsvRun();
            var before = csv.Create(maxSamples: 2);
            foreach (var chunk in chunks.Take(stop))
                await before.ProcessAsync(chunk, s_anySensor, CancellationToken.None);
            // Through the record's JSON, as after a restart.
            var checkpoint = RoundTrip(before.Checkpoint);

            var after = csv.Create(maxSamples: 2, checkpoint);
            var rest = Encoding.UTF8.GetBytes(text)[(int)checkpoint.Bytes..];
            foreach (var chunk in rest.Chunk(7))
                await after.ProcessAsync(chunk, s_anySensor, CancellationToken.None);
            await after.CompleteAsync(s_anySensor, CancellationToken.None);
            var summary = after.Summarize(new UploadResult()).Csv!;

            Assert.Equal(Counts(uninterrupted), Counts(summary));
            Assert.Equal(Rejections(uninterrupted), Rejections(summary));
            Assert.Equal(published, (await csv.PublishedAsync("cp")).Select(r => r.Value));
        }
    }

    [Fact]
    public async Task AFailedPublishLeavesACheckpointBeforeItsRowAndEachRowIsPublishedOnce()
    {
        using var csv = new CsvRun();
        var text = string.Concat(Enumerable.Range(1, 6).Select(i => $"once,{1700000000000 + i},{i}\n"));
        var calls = 0;
        var before = csv.Create(maxSamples: 10);

        var failure = await Record.ExceptionAsync(() => before.ProcessAsync(
            Encoding.UTF8.GetBytes(text), new Publisher(null, _ => ++calls == 4 ? throw new IOException("away") : true), CancellationToken.None).AsTask());
        var checkpoint = before.Checkpoint;
        var after = csv.Create(maxSamples: 10, checkpoint);
        await after.ProcessAsync(Encoding.UTF8.GetBytes(text).AsMemory((int)checkpoint.Bytes), s_anySensor, CancellationToken.None);
        await after.CompleteAsync(s_anySensor, CancellationToken.None);

        Assert.IsType<IOException>(failure);
        Assert.Equal((3L, Encoding.UTF8.GetByteCount(string.Concat(text.Split('\n').Take(3).Select(l => l + "\n")))), (checkpoint.Lines, checkpoint.Bytes));
        Assert.Equal((3L, 3L, 0L), Counts(checkpoint.Csv!));
        Assert.Equal((6L, 6L, 0L), Counts(after.Summarize(new UploadResult()).Csv!));
        Assert.Equal([1.0, 2, 3, 4, 5, 6], (await csv.PublishedAsync("once")).Select(r => r.Value));
    }

    [Fact]
    public async Task ALogProcessorMadeFromACheckpointGoesOnAsIfItHadNeverStopped()
    {
        var bytes = Encoding.UTF8.GetBytes("INFO a\nERROR b\n\nWARN c\nERROR d\nplain\nERROR e");
        var whole = new LogProcessor(maxSamples: 2);
        await whole.ProcessAsync(bytes, publisher: null, CancellationToken.None);
        await whole.CompleteAsync(publisher: null, CancellationToken.None);
        var expected = whole.Summarize(new UploadResult()).Log!;

        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var before = new LogProcessor(maxSamples: 2);
            await before.ProcessAsync(bytes.AsMemory(0, cut), publisher: null, CancellationToken.None);
            var checkpoint = RoundTrip(before.Checkpoint);
            var after = new LogProcessor(maxSamples: 2, checkpoint);
            await after.ProcessAsync(bytes.AsMemory((int)checkpoint.Bytes), publisher: null, CancellationToken.None);
            await after.CompleteAsync(publisher: null, CancellationToken.None);
            var log = after.Summarize(new UploadResult()).Log!;

            Assert.Equal((expected.Lines, expected.Errors, expected.Warnings, expected.Infos, expected.Other), (log.Lines, log.Errors, log.Warnings, log.Infos, log.Other));
            Assert.Equal(expected.FirstErrors, log.FirstErrors);
        }
    }

    private static ProcessingCheckpoint RoundTrip(ProcessingCheckpoint checkpoint)
    {
        var web = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        return System.Text.Json.JsonSerializer.Deserialize<ProcessingCheckpoint>(System.Text.Json.JsonSerializer.Serialize(checkpoint, web), web)!;
    }

    private static (long Rows, long Accepted, long Rejected) Counts(CsvSummary summary) => (summary.Rows, summary.Accepted, summary.Rejected);

    private static IEnumerable<(long Line, string Reason)> Rejections(CsvSummary summary) => summary.FirstRejections.Select(r => (r.Line, r.Reason));

    /// <summary>A CSV processor over a real ingest and the in-memory engine, on a clock fixed at <see cref="s_now"/>.</summary>
    private sealed class CsvRun : IDisposable
    {
        private readonly ReadingIngest _ingest;

        public CsvRun()
        {
            var time = new FakeTimeProvider(s_now);
            Harness = new EngineHarness(time: time);
            _ingest = new ReadingIngest(Harness.Engine, Harness.Options, Harness.Refusals, time, NullLogger<ReadingIngest>.Instance);
        }

        public EngineHarness Harness { get; }

        public CsvProcessor Create(int maxSamples, ProcessingCheckpoint? from = null) => new(_ingest, maxSamples, from);

        public Task<CsvSummary> RunAsync(string text, int maxSamples = 10, bool publishes = true) =>
            RunAsync([text], maxSamples, publishes);

        public Task<CsvSummary> RunAsync(IEnumerable<string> chunks, int maxSamples = 10, bool publishes = true) =>
            RunAsync(chunks.Select(Encoding.UTF8.GetBytes), maxSamples, publishes);

        public async Task<CsvSummary> RunAsync(IEnumerable<byte[]> chunks, int maxSamples = 10, bool publishes = true)
        {
            var processor = Create(maxSamples);
            var publisher = publishes ? s_anySensor : null;
            foreach (var chunk in chunks)
                await processor.ProcessAsync(chunk, publisher, CancellationToken.None);
            await processor.CompleteAsync(publisher, CancellationToken.None);
            return processor.Summarize(new UploadResult()).Csv!;
        }

        public async Task<IReadOnlyList<Reading>> PublishedAsync(string sensorId) =>
            await Harness.History.ReadAsync(sensorId, 0, 10_000, CancellationToken.None);

        public void Dispose() => Harness.Dispose();
    }
}
