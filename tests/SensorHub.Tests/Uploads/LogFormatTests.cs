using SensorHub.Server.Uploads.Processing;
using static SensorHub.Tests.Uploads.LogProcessing;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Log levels in the formats common tools write: a fixture per format with its expected summary, the file of issue 17,
/// each recogniser's edges, the general rule, and what continues an entry.
/// </summary>
public sealed class LogFormatTests
{
    // ---- Fixtures: one per format, written for these tests ----

    public static TheoryData<string, long[], string, long[]> Fixtures => new()
    {
        // file, (lines, entries, errors, warnings, infos, debug, other), format, lines of firstErrors
        { "aspnetcore.log", [16, 7, 2, 1, 2, 2, 0], "aspnetcore", [9, 14] },
        { "nginx.log", [9, 9, 4, 1, 3, 1, 0], "nginx", [5, 6, 7, 8] },
        { "serilog.log", [11, 8, 3, 1, 2, 2, 0], "serilog", [5, 9, 11] },
        { "json.log", [16, 16, 5, 3, 4, 2, 2], "json", [2, 5, 8, 12, 13] },
        { "syslog.log", [10, 10, 3, 1, 2, 1, 3], "syslog", [1, 4, 7] },
        { "log4j.log", [13, 7, 3, 1, 1, 2, 0], "log4j", [4, 11, 13] },
        { "python.log", [19, 6, 2, 1, 1, 1, 1], "python", [4, 18] },
        { "issue-17.log", [19, 16, 9, 5, 2, 0, 0], "aspnetcore", [1, 3, 8, 10, 13, 15, 16, 17, 18] },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task EachFixtureHasItsExpectedSummary(string file, long[] counts, string format, long[] firstErrors)
    {
        var log = await SummarizeAsync(Fixture(file));

        Assert.Equal((counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], format), Counts(log));
        Assert.Equal(firstErrors, log.FirstErrors.Select(e => e.Line));
        Assert.Equal(log.Entries, log.Errors + log.Warnings + log.Infos + log.Debug + log.Other);
    }

    [Fact]
    public async Task TheFileOfIssue17CountsEveryFormatAtItsLevelAndItsContinuationLinesNot()
    {
        var text = System.Text.Encoding.UTF8.GetString(Fixture("issue-17.log"));

        var log = await SummarizeAsync(text);

        // 19 lines, 3 of them indented continuations of the ASP.NET entries above them.
        Assert.Equal((19L, 16L, 9L, 5L, 2L, 0L, 0L, "aspnetcore"), Counts(log));
        // firstErrors shows each error entry's first line, whole.
        Assert.Equal("fail: SensorHub.Server.Uploads.UploadWorker[4105]", log.FirstErrors[0].Text);
        Assert.Equal("2026-11-30 03:00:06,200 FATAL [main] c.e.sensorhub.Bridge - Bridge stopped", log.FirstErrors[7].Text);
    }

    [Fact]
    public async Task ProseThatMerelyContainsALevelWordIsOther()
    {
        string[] prose =
        [
            "0 errors found",
            "no warnings",
            "Error rate was low",
            "Warning signs were absent, info desk closed, debugging done",
            "The errorHandler was traced",
            "Critical thinking is a fatal attraction",
        ];
        var text = System.Text.Encoding.UTF8.GetString(Fixture("issue-17.log")) + string.Join('\n', prose) + "\n";

        var log = await SummarizeAsync(text);

        Assert.Equal((25L, 22L, 9L, 5L, 2L, 0L, 6L, "aspnetcore"), Counts(log));
    }

    // ---- One line at a time: each recogniser and the general rule ----

    public static TheoryData<string, string> Levels => new()
    {
        // ASP.NET Core: lowercase, at the start, optionally after a bracketed timestamp.
        { "fail: A.B[1]", "Error" }, { "crit: A[0]", "Error" }, { "warn: A[0]", "Warning" }, { "info: A[0] message", "Info" },
        { "dbug: A[0]", "Debug" }, { "trce: A[0]", "Debug" }, { "[2026-11-30 03:00:00] fail: A[0]", "Error" },
        { "Fail: A[0]", "None" }, { "info:A", "None" }, { "fail:  A", "None" },
        // nginx: brackets after the date, any case.
        { "2026/11/30 03:00:00 [error] 1#1: x", "Error" }, { "2026/11/30 03:00:00 [emerg] 1#1: x", "Error" },
        { "2026/11/30 03:00:00 [warn] 1#1: x", "Warning" }, { "2026/11/30 03:00:00 [notice] 1#1: x", "Info" },
        { "2026/11/30 03:00:00 [debug] 1#1: x", "Debug" }, { "2026/11/30 03:00:00 [Warn] 1#1: x", "Warning" },
        // Serilog: u3 levels, uppercase.
        { "[03:00:02 ERR] x", "Error" }, { "[03:00:02 FTL] x", "Error" }, { "[03:00:02 WRN] x", "Warning" },
        { "[03:00:02 INF] x", "Info" }, { "[03:00:02 DBG] x", "Debug" }, { "[03:00:02 VRB] x", "Debug" },
        { "2026-11-30 03:00:00.000 +00:00 [ERR] x", "Error" }, { "[03:00:02 err] x", "None" }, { "[abc ERR] x", "None" },
        // JSON lines: level words in any case, numbers, Serilog compact.
        { """{"level":"error"}""", "Error" }, { """{"level":"Warning"}""", "Warning" }, { """{"lvl":"info"}""", "Info" },
        { """{"severity":"ALERT"}""", "Error" }, { """{"levelname":"DEBUG"}""", "Debug" }, { """{"log.level":"warn"}""", "Warning" },
        { """{"log":{"level":"fatal"}}""", "Error" }, { """{"@t":"2026-11-30T03:00:00Z","@mt":"x"}""", "Info" },
        { """{"@t":"2026-11-30T03:00:00Z","@l":"Fatal"}""", "Error" }, { """{"level":40}""", "Warning" }, { """{"level":60}""", "Error" },
        { """{"level":20}""", "Debug" }, { """{"level":3}""", "Error" }, { """{"level":"\u0065rror"}""", "Error" },
        { """{"a":[1,{"level":"error"}],"level":"info"}""", "Info" }, { """{"msg":"quiet"}""", "None" },
        { """{"level":"error"} trailing""", "None" }, { """{"level":"error",""", "None" }, { """{"level":"ERROR" """, "Error" },
        { """{"level":{"name":"error"}}""", "None" }, { """{"msg":"an ERROR in prose"}""", "Error" },
        // syslog: the word after the program, any case, with its colon; or the priority's severity.
        { "Nov 30 03:00:05 host sshd[123]: error: x", "Error" }, { "Nov  3 03:00:05 host app: Warning: x", "Warning" },
        { "Nov 30 03:00:05 host app[1]: Error rate was low", "None" }, { "<11>Nov 30 03:00:05 host app: x", "Error" },
        { "<12>1 2026-11-30T03:00:05Z host app - - - x", "Warning" }, { "<14>x", "Info" }, { "<191>x", "Debug" },
        { "<192>x", "None" }, { "2026-11-30T03:00:05+01:00 host app[1]: notice: x", "Info" },
        // log4j / Logback: the level next to the thread.
        { "2026-11-30 03:00:06,123 ERROR [main] c.x.Y - m", "Error" }, { "03:00:06.123 [main] FATAL c.x.Y - m", "Error" },
        { "03:00:06.123 [main] WARN  c.x.Y - m", "Warning" }, { "03:00:06.123 [main] DEBUG c.x.Y - m", "Debug" },
        // Python: the level, the logger, colons.
        { "ERROR:root:x", "Error" }, { "CRITICAL:app.db:x", "Error" }, { "WARNING:root:x", "Warning" }, { "INFO:root:x", "Info" },
        { "DEBUG:root:x", "Debug" }, { "WARNING: a", "Warning" },
        // The general rule: the earliest standalone uppercase word, or a level word alone in brackets in any case.
        { "x FATAL y", "Error" }, { "x SEVERE y", "Error" }, { "x EMERG y", "Error" }, { "x ALERT y", "Error" },
        { "x CRITICAL y", "Error" }, { "x CRIT y", "Error" }, { "x NOTICE y", "Info" }, { "x DEBUG y", "Debug" },
        { "x TRACE y", "Debug" }, { "CRITICALLY x", "None" }, { "DEBUGGING x", "None" }, { "NOTICE_x WARN", "Warning" },
        { "x [error] y", "Error" }, { "x [Warning] y", "Warning" }, { "x [Info] y", "Info" }, { "x [errors] y", "None" },
        { "x [ error] y", "None" }, { "x error y", "None" }, { "0 errors found", "None" }, { "no warnings", "None" },
        { "Error rate was low", "None" }, { "TRACE then ERROR", "Debug" },
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public void ALineIsReadByItsFormatOrTheGeneralRule(string line, string level) =>
        Assert.Equal(level, LogProcessor.LevelOf(line).ToString());

    [Fact]
    public void AVeryLongOrDeepJsonLineIsReadWithoutThrowing()
    {
        var deep = "{\"level\":\"warn\",\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        var wide = "{\"level\":\"error\",\"x\":\"" + new string('a', 60_000) + "\"}";

        Assert.Equal("None", LogProcessor.LevelOf(deep).ToString());
        Assert.Equal("Error", LogProcessor.LevelOf(wide).ToString());
    }

    // ---- Entries ----

    public static TheoryData<string, long[]> Entries => new()
    {
        // text, (entries, errors, other)
        { "ERROR a\n  more\n\tat x\nCaused by: y\n... 3 more\nINFO b", [2, 1, 0] },
        // A continuation line at the start has no entry above: it is one.
        { "  indented first\nERROR a", [2, 1, 1] },
        { "\tERROR at the start\n  more", [1, 1, 0] },
        // Blank lines are no entry, and do not end one.
        { "ERROR a\n\n   \n  still a\nplain", [2, 1, 1] },
        // A traceback belongs to the entry above, up to and with its unindented exception line.
        { "ERROR:root:x\nTraceback (most recent call last):\n  File \"a.py\", line 1\nValueError: ERROR in the message\nafter", [2, 1, 1] },
        // A traceback cut short by an entry in a known format.
        { "ERROR:root:x\nTraceback (most recent call last):\n  File \"a.py\", line 1\nWARNING:root:next", [2, 1, 0] },
        // A traceback at the start is an entry of its own (no level), with its exception line.
        { "Traceback (most recent call last):\n  File \"a.py\"\nKeyError: 'x'\nERROR b", [2, 1, 1] },
        // Java's and .NET's exception name lines continue the entry; other "X: y" lines do not.
        { "ERROR a\njava.lang.IllegalStateException: boom\nSystem.IO.IOException\nNote: x\nmy.Thing: y", [3, 1, 2] },
        { "ERROR a\n... 12 more\n... 12 more or less\n...", [3, 1, 2] },
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public async Task ContinuationLinesBelongToTheEntryAbove(string text, long[] expected)
    {
        var log = await SummarizeAsync(text);

        Assert.Equal((expected[0], expected[1], expected[2]), (log.Entries, log.Errors, log.Other));
        Assert.Equal(text.Split('\n').Length, log.Lines);
        Assert.Equal(log.Entries, log.Errors + log.Warnings + log.Infos + log.Debug + log.Other);
    }

    [Fact]
    public async Task TheFormatIsTheFirstRecognisedWithinTheFirstHundredLines()
    {
        var prose = string.Concat(Enumerable.Repeat("plain ERROR prose\n", 99));

        var within = await SummarizeAsync(prose + "[03:00:02 ERR] x\nERROR:root:y\n");
        var after = await SummarizeAsync(prose + "plain\n[03:00:02 ERR] x\n");
        var generalFirst = await SummarizeAsync("2026-01-01 [ERROR] general\nNov 30 03:00:05 host app[1]: info: x\n");

        Assert.Equal(("serilog", 101L), (within.Format, within.Errors));
        Assert.Equal(("", 100L), (after.Format, after.Errors));
        Assert.Equal("syslog", generalFirst.Format);
    }

    [Fact]
    public async Task ALineOfTheFilesFormatIsReadByItFirst()
    {
        // Both a syslog line (level "warning") and a log4j one (ERROR next to the thread): syslog is tried before
        // log4j, unless the file is log4j.
        const string both = "2026-11-30T03:00:07 host app: warning: x [main] ERROR c.x.Y - m";

        var log = await SummarizeAsync("2026-11-30 03:00:06,123 INFO [main] c.x.Y - m\n" + both + "\n");

        Assert.Equal("Warning", LogProcessor.LevelOf(both).ToString());
        Assert.Equal(("log4j", 1L, 1L, 0L), (log.Format, log.Infos, log.Errors, log.Warnings));
    }

    [Fact]
    public async Task ReadingLinesAllocatesNothingPerLine()
    {
        // Every fixture, JSON lines included, many times over; error samples are off (each is a string).
        var bytes = new[] { "aspnetcore.log", "nginx.log", "serilog.log", "json.log", "syslog.log", "log4j.log", "python.log" }
            .SelectMany(Fixture).ToArray();
        var processor = new LogProcessor(maxSamples: 0);
        await FeedAsync(processor, bytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            await processor.ProcessAsync(bytes, publisher: null, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 1024, $"{allocated} bytes allocated over {100 * bytes.Count(b => b == '\n')} lines");
    }
}
