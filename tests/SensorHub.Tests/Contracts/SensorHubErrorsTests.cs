using System.Reflection;
using SensorHub.Contracts;

namespace SensorHub.Tests.Contracts;

/// <summary>Where a client finds an error's code: <see cref="SensorHubErrors.CodeOf"/> and <see cref="SensorHubErrors.Format"/>.</summary>
public sealed class SensorHubErrorsTests
{
    private const string StreamPrefix = "An error occurred on the server while streaming results. HubException: ";
    private const string InvokePrefix = "An unexpected error occurred invoking 'Upload' on the server. HubException: ";

    public static TheoryData<string?, string?> Messages => new()
    {
        // As SignalR delivers them: a stream's error, a call's error.
        { StreamPrefix + "[unknown_sensor] sensorId: no sensor 'x' is known.", "unknown_sensor" },
        { InvokePrefix + "[upload_has_writer] uploadId: upload 'u' already has a writer.", "upload_has_writer" },
        // As the server raises it, without SignalR's words.
        { "[rate_limited] Too many annotations.", "rate_limited" },
        // Brackets in the text after the code are text.
        { StreamPrefix + "[invalid_argument] request.invited[3] is empty.", "invalid_argument" },
        // The text may mention HubException itself: the start of the message wins.
        { "[upload_failed] Upload 'u' failed: HubException: [not_it] in a log line.", "upload_failed" },
        { InvokePrefix + "[too_large] a chunk, see HubException: [not_it]", "too_large" },
        // No code: a transport error, an unexpected server error, nothing at all.
        { null, null },
        { "", null },
        { "Invocation canceled due to the underlying connection being closed.", null },
        { "An unexpected error occurred invoking 'Upload' on the server.", null },
        { "An error occurred on the server while streaming results. InvalidDataException: bad bytes", null },
        { StreamPrefix, null },
        { StreamPrefix + "Too many uploads at once: this connection already runs 4.", null },
        // Malformed: not a code, or not where a code belongs.
        { StreamPrefix + "[Unknown_Sensor] capitals", null },
        { StreamPrefix + "[unknown sensor] a space", null },
        { StreamPrefix + "[unknown-sensor] a dash", null },
        { StreamPrefix + "[] empty", null },
        { StreamPrefix + "[unknown_sensor no closing bracket", null },
        { StreamPrefix + "[" + new string('a', 65) + "] too long", null },
        { StreamPrefix + " [unknown_sensor] one space too many", null },
        { "HubException:[unknown_sensor] no space after the colon", null },
        { "Too many uploads [too_many_uploads] in the middle", null },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void CodeOfReadsTheCodeAtTheStartOrAfterSignalRsPrefix(string? message, string? code) =>
        Assert.Equal(code, SensorHubErrors.CodeOf(message));

    [Fact]
    public void EveryCodeSurvivesFormatAndBothSignalRPrefixes()
    {
        foreach (var code in SensorHubErrors.All)
        {
            var message = SensorHubErrors.Format(code, "what was wrong.");
            Assert.Equal($"[{code}] what was wrong.", message);
            Assert.Equal(code, SensorHubErrors.CodeOf(message));
            Assert.Equal(code, SensorHubErrors.CodeOf(StreamPrefix + message));
            Assert.Equal(code, SensorHubErrors.CodeOf(InvokePrefix + message));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("Not_allowed")]
    [InlineData("not allowed")]
    [InlineData("not-allowed")]
    [InlineData("[not_allowed]")]
    public void FormatRefusesWhatIsNotACode(string code) =>
        Assert.Throws<ArgumentException>(() => SensorHubErrors.Format(code, "text"));

    [Fact]
    public void AllListsEveryCodeOnceAndNothingElse()
    {
        var constants = typeof(SensorHubErrors)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();

        Assert.Equal(SensorHubErrors.All.Count, SensorHubErrors.All.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(constants.Order(StringComparer.Ordinal), SensorHubErrors.All.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("An unexpected error occurred invoking 'Annotate' on the server. HubException: [invalid_argument] input is required.", "[invalid_argument] input is required.")]
    [InlineData("An error occurred on the server while streaming results. HubException: [unknown_sensor] sensorId: no sensor 'x' is known.", "[unknown_sensor] sensorId: no sensor 'x' is known.")]
    [InlineData("[too_large] A chunk of 2 bytes is over the 1-byte limit.", "[too_large] A chunk of 2 bytes is over the 1-byte limit.")]
    [InlineData("An unexpected error occurred invoking 'Upload' on the server.", "An unexpected error occurred invoking 'Upload' on the server.")]
    public void ServerTextOfShowsTheServersWordsFromTheCodeOn(string message, string expected) =>
        Assert.Equal(expected, SensorHubErrors.ServerTextOf(message));
}
