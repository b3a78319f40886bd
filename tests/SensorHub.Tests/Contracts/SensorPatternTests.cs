using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using SensorHub.Contracts;

namespace SensorHub.Tests.Contracts;

/// <summary>
/// <see cref="SensorPattern"/>: MQTT 5.0's topic filters (section 4.7) over sensor ids, checked against the
/// specification's own examples, malformed patterns refused with the phrase that names the problem, and a property test
/// against a reference matcher written another way (a regular expression built from the levels).
/// </summary>
public sealed class SensorPatternTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SENSORHUB_PROPERTY_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0
            ? n * 10
            : 5_000;

    /// <summary>MQTT 5.0 section 4.7.1.2 and 4.7.1.3, with the examples' topics as sensor ids (which cannot start with '/').</summary>
    public static TheoryData<string, string, bool> SpecificationExamples => new()
    {
        // 4.7.1.2: "sport/tennis/player1/#" receives these three.
        { "sport/tennis/player1/#", "sport/tennis/player1", true },
        { "sport/tennis/player1/#", "sport/tennis/player1/ranking", true },
        { "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true },
        { "sport/tennis/player1/#", "sport/tennis/player2", false },
        { "sport/tennis/player1/#", "sport/tennis/player10", false },
        // "sport/#" also matches the singular "sport", since # includes the parent level.
        { "sport/#", "sport", true },
        { "sport/#", "sports", false },
        { "#", "sport", true },
        { "#", "sport/tennis/player1", true },
        // 4.7.1.3: "sport/tennis/+" matches "sport/tennis/player1" and "sport/tennis/player2", not "sport/tennis/player1/ranking".
        { "sport/tennis/+", "sport/tennis/player1", true },
        { "sport/tennis/+", "sport/tennis/player2", true },
        { "sport/tennis/+", "sport/tennis/player1/ranking", false },
        // "sport/+" does not match "sport", but does match "sport/" (an empty level).
        { "sport/+", "sport", false },
        { "sport/+", "sport/", true },
        { "+/tennis/#", "sport/tennis", true },
        { "+/tennis/#", "sport/tennis/player1", true },
        { "+/tennis/#", "sport/golf", false },
        { "sport/+/player1", "sport/tennis/player1", true },
        { "sport/+/player1", "sport/tennis/player2", false },
        // "+" matches one level only; "+/+" matches two, the second empty too.
        { "+", "sport", true },
        { "+", "sport/tennis", false },
        { "+/+", "sport/", true },
        { "+/+", "sport/tennis", true },
        // Without a wildcard a pattern is one id: matched exactly, level by level.
        { "plant-1/line-2/temperature", "plant-1/line-2/temperature", true },
        { "plant-1/line-2/temperature", "plant-1/line-2/temperature2", false },
        { "plant-1/line-2/temperature", "plant-1/line-2", false },
    };

    [Theory]
    [MemberData(nameof(SpecificationExamples))]
    public void MatchesAsMqttSpecifiesIt(string pattern, string sensorId, bool matches)
    {
        Assert.Equal(matches, SensorPattern.Parse(pattern).Matches(sensorId));
        Assert.Equal(matches, Reference(pattern, sensorId));
    }

    public static TheoryData<string?, string> Malformed => new()
    {
        // MQTT 5.0 4.7.1.2: "sport/tennis#" and "sport/tennis/#/ranking" are not valid.
        { "sport/tennis#", "has a wildcard inside the level 'tennis#'; + and # must stand for a whole level" },
        { "sport/tennis/#/ranking", "has '#' before its last level; '#' may only be the last level" },
        // 4.7.1.3: "sport+" is not valid.
        { "sport+", "has a wildcard inside the level 'sport+'" },
        { "plant/line+/temperature", "has a wildcard inside the level 'line+'" },
        { "#/a", "has '#' before its last level" },
        { "a/##", "has a wildcard inside the level '##'" },
        { "/sport/#", "starts with '/': sensor ids have no empty first level" },
        { "/", "starts with '/'" },
        { "", "is empty" },
        { null, "is required" },
        { new string('a', 129), "is 129 characters long; at most 128 are allowed" },
        { "sport/tennis player", "contains U+0020; only ASCII letters, digits, . _ - / and the wildcards + and # are allowed" },
        { "sport/$SYS", "contains '$'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AMalformedPatternIsRefusedWithItsProblem(string? pattern, string problem)
    {
        Assert.False(SensorPattern.TryParse(pattern, out var parsed, out var found));
        Assert.Null(parsed);
        Assert.StartsWith(problem, found, StringComparison.Ordinal);
        var error = Assert.Throws<FormatException>(() => SensorPattern.Parse(pattern));
        Assert.Contains($"'{pattern}' {problem}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("#", "")]
    [InlineData("+", "")]
    [InlineData("+/a/#", "")]
    [InlineData("plant-1/#", "plant-1")]
    [InlineData("plant-1/+/temperature", "plant-1/")]
    [InlineData("plant-1/line-2/+/#", "plant-1/line-2/")]
    [InlineData("plant-1/line-2", "plant-1/line-2")]
    public void ThePrefixIsWhatEveryMatchingIdStartsWith(string pattern, string prefix) =>
        Assert.Equal(prefix, SensorPattern.Parse(pattern).Prefix);

    // Small alphabets of levels, so that matches are frequent: ids of 1 to 4 levels (the first never empty, as ids
    // cannot start with '/'), patterns of the same levels and the wildcards.
    private static readonly Gen<string> GenId = Gen.Select(
        Level("a", "b", "ab"), Level("a", "b", "ab", "").Array[0, 3], (first, rest) => string.Join('/', [first, .. rest]));

    private static readonly Gen<string> GenPattern = Gen.Frequency(
        (1, Gen.Const("#")),
        (12, Gen.Select(
            Level("a", "b", "ab", "+"),
            Level("a", "b", "+", "").Array[0, 3],
            Gen.Bool,
            (first, rest, multiLevel) => string.Join('/', [first, .. rest, .. multiLevel ? new[] { "#" } : []]))));

    private static Gen<string> Level(params string[] levels) => Gen.Int[0, levels.Length - 1].Select(i => levels[i]);

    [Fact]
    public void MatchesAsAReferenceMatcherDoes() =>
        Gen.Select(GenPattern, GenId.Array[1, 8]).Sample(
            (pattern, ids) =>
            {
                var parsed = SensorPattern.Parse(pattern);
                foreach (var id in ids)
                {
                    var matches = parsed.Matches(id);
                    if (matches != Reference(pattern, id))
                        return false;
                    // Every match starts with the prefix (a sorted index walks from it), and without a wildcard the only match is the pattern itself.
                    if (matches && !id.StartsWith(parsed.Prefix, StringComparison.Ordinal))
                        return false;
                    if (!parsed.HasWildcards && matches != (id == pattern))
                        return false;
                }
                return true;
            },
            iter: Iterations,
            print: sample => $"pattern '{sample.Item1}', ids [{string.Join(", ", sample.Item2)}]");

    [Fact]
    public void EveryPatternOfTheAlphabetParsesAndNoIdIsAPatternWithWildcards() =>
        GenId.Sample(id =>
        {
            var parsed = SensorPattern.Parse(id);
            return !parsed.HasWildcards && parsed.Prefix == id && parsed.Matches(id);
        }, iter: Iterations);

    /// <summary>
    /// The reference: a regular expression built from the pattern's levels, as MQTT 5.0 section 4.7 reads: <c>+</c> is
    /// one level of any characters but <c>/</c> (none too), a last <c>#</c> is the parent level and anything below it.
    /// </summary>
    private static bool Reference(string pattern, string sensorId)
    {
        var levels = pattern.Split('/');
        var multiLevel = levels[^1] == "#";
        var fixedLevels = multiLevel ? levels[..^1] : levels;
        var body = string.Join("/", fixedLevels.Select(level => level == "+" ? "[^/]*" : Regex.Escape(level)));
        var expression = multiLevel
            ? fixedLevels.Length == 0 ? ".*" : body + "(/.*)?"
            : body;
        return Regex.IsMatch(sensorId, "^" + expression + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
