using SensorHub.ClientSample;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.ClientSample;

/// <summary>
/// The sample's command line on its own, with no server: every bad argument is one line on stderr and exit code 2,
/// found before anything connects; <c>--help</c> describes each command.
/// </summary>
public sealed class SampleCommandLineTests
{
    // Nothing listens on the discard port. A command that connected before it checked its arguments would fail there
    // with a connection error and exit code 1, not 2 (ARuntimeFailureIsOneLineAndExitCode1 shows that it does).
    private const string NoServer = "http://127.0.0.1:9/";

    public static TheoryData<string[], string[]> BadCommandLines => new()
    {
        { Against(["subscribe", "x", "--count", "99999999999999999999"]), ["--count", "'99999999999999999999'"] },
        { Against(["subscribe", "x", "--count", "ten"]), ["--count", "'ten'"] },
        { Against(["subscribe", "x", "--count", "0"]), ["--count", "'0'"] },
        { Against(["subscribe", "x", "--count", "-1"]), ["--count", "'-1'"] },
        { Against(["subscribe", "x", "--count", "2.5"]), ["--count", "'2.5'"] },
        { Against(["subscribe", "x", "--from", "-1"]), ["--from", "'-1'"] },
        { Against(["subscribe", "x", "--from", "99999999999999999999"]), ["--from", "'99999999999999999999'"] },
        { Against(["subscribe", "x", "--from", "first"]), ["--from", "'first'"] },
        { Against(["subscribe", "x", "--max-rate", "0"]), ["--max-rate", "'0'"] },
        { Against(["subscribe", "x", "--max-rate", "0.0001"]), ["--max-rate", "'0.0001'"] },
        { Against(["subscribe", "x", "--max-rate", "1000001"]), ["--max-rate", "'1000001'"] },
        { Against(["subscribe", "x", "--max-rate", "NaN"]), ["--max-rate", "'NaN'"] },
        { Against(["subscribe", "x", "--max-rate", "fast"]), ["--max-rate", "'fast'"] },
        { Against(["subscribe", "x", "--count"]), ["--count"] },
        { ["subscribe", "x", "--url", "--count", "5", "--token", "t"], ["--url", "'--count'"] },
        { Against(["subscribe", "a b"]), ["sensorId", "U+0020"] },
        { Against(["subscribe", "@x"]), ["sensorId", "'@'"] },
        { Against(["publish", "x", "--rate", "0"]), ["--rate", "'0'"] },
        { Against(["publish", "x", "--rate", "-5"]), ["--rate", "'-5'"] },
        { Against(["publish", "x", "--rate", "5000"]), ["--rate", "'5000'"] },
        { Against(["publish", "x", "--rate", "Infinity"]), ["--rate", "'Infinity'"] },
        { Against(["publish", "x", "--rate", "quick"]), ["--rate", "'quick'"] },
        { Against(["publish", "x", "--count", "0"]), ["--count", "'0'"] },
        { Against(["publish", "x", "--count", "99999999999999999999"]), ["--count", "'99999999999999999999'"] },
        { Against(["publish", "/x"]), ["sensorId", "'/'"] },
        { Against(["sensors", "--prefix", "plant 1"]), ["--prefix", "U+0020"] },
        { Against(["session", "annotate", "s1", "note", "--sensor", "x", "--sequence", "-1"]), ["--sequence", "'-1'"] },
        { Against(["session", "annotate", "s1", "note", "--sensor", "x", "--sequence", "99999999999999999999"]), ["--sequence", "'99999999999999999999'"] },
        { Against(["session", "annotate", "s1", "note", "--sequence", "3"]), ["--sequence", "--sensor"] },
        { Against(["session", "annotate", "s1", "note", "--sensor", "a b"]), ["--sensor", "U+0020"] },
        { Against(["subscribe", "x", "--bogus", "1"]), ["'--bogus'"] },
        { Against(["session", "join", "s1", "--count", "1"]), ["'--count'"] },
        { Against(["frobnicate"]), ["'frobnicate'"] },
        { Against(["session", "leave", "s1"]), ["'leave'"] },
        { Against([]), ["command"] },
        { Against(["session"]), ["join", "annotate"] },
        { Against(["subscribe"]), ["sensorId"] },
        { Against(["download", "u1"]), ["file"] },
        { Against(["session", "annotate", "s1"]), ["text"] },
        { Against(["upload", "/no/such/file.csv"]), ["'/no/such/file.csv'"] },
        { Against(["download", "u1", "/no/such/folder/copy.csv"]), ["'/no/such/folder/copy.csv'"] },
        { Against(["download", "u1", ""]), ["<file>", "''"] },
        { Against(["subscribe", "x", "--protocol", "xml"]), ["--protocol", "'xml'"] },
        { ["subscribe", "x", "--url", "localhost:5000/hub"], ["--url", "'localhost:5000/hub'"] },
        { ["subscribe", "x", "--url", "ftp://localhost/"], ["--url", "'ftp://localhost/'"] },
        { ["subscribe", "x", "--url", "http://localhost:5000,ftp://localhost/"], ["--url", "'ftp://localhost/'"] },
        { ["subscribe", "x", "--url", "http://localhost:5000", "--server", "relative"], ["--url", "'relative'"] },
        { ["subscribe", "x", "--url", "/relative"], ["--url", "'/relative'"] },
        { ["sensors", "--url", "http://localhost:99999/"], ["--url", "'http://localhost:99999/'"] },
    };

    public static TheoryData<string[], string[]> Helps => new()
    {
        { [], ["sensors", "subscribe", "publish", "upload", "download", "session"] },
        { ["sensors"], ["--prefix"] },
        { ["subscribe"], ["<sensorId>", "--from", "--max-rate", "--count"] },
        { ["publish"], ["<sensorId>", "--rate", "--count"] },
        { ["upload"], ["<file>", "--content-type"] },
        { ["download"], ["<uploadId>", "<file>"] },
        { ["session"], ["join", "annotate"] },
        { ["session", "join"], ["<sessionId>"] },
        { ["session", "annotate"], ["<sessionId>", "<text>", "--sensor", "--sequence"] },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public async Task ABadArgumentIsOneLineOnStderrAndExitCode2(string[] args, string[] named)
    {
        var (code, output, errors) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
        Assert.All(named, name => Assert.Contains(name, line, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Helps))]
    public async Task HelpListsTheCommandsOptionsAndExits0(string[] command, string[] listed)
    {
        var (code, output, errors) = await RunAsync([.. command, "--help"]);

        Assert.Equal(0, code);
        Assert.Equal("", errors);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.All(command.Length == 0 ? listed : [.. listed, "--url", "--protocol", "--token", "--user"],
            name => Assert.Contains(name, output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARuntimeFailureIsOneLineAndExitCode1()
    {
        var (code, output, errors) = await RunAsync(["sensors", "--url", NoServer, "--token", "t"]);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    private static string[] Against(string[] args) => [.. args, "--url", NoServer, "--token", "t"];

    private static async Task<(int Code, string Output, string Errors)> RunAsync(string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var code = await SampleApp.RunAsync(args, output, errors, cts.Token).WaitAsync(Timeouts.Default);
        return (code, output.ToString(), errors.ToString());
    }
}
