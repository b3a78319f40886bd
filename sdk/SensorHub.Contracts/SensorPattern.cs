using System.Diagnostics.CodeAnalysis;

namespace SensorHub.Contracts;

/// <summary>
/// A <c>SubscribeMany</c> pattern: MQTT's topic-filter syntax (MQTT 5.0, section 4.7) over the <c>/</c> levels of
/// sensor ids. <c>+</c> stands for exactly one level (an empty one too, as in MQTT); <c>#</c>, only as the last level,
/// for that level's parent and everything below it (<c>plant-1/#</c> matches <c>plant-1</c>, <c>plant-1/a</c> and
/// <c>plant-1/a/b</c>); a pattern without wildcards matches one id. Immutable and thread-safe.
/// </summary>
public sealed class SensorPattern
{
    /// <summary>The longest pattern allowed: as long as the longest sensor id (<see cref="SensorId.MaxLength"/>).</summary>
    public const int MaxLength = SensorId.MaxLength;

    private readonly string[] _levels;
    private readonly bool _multiLevel;

    private SensorPattern(string text, string[] levels, bool multiLevel, string prefix)
    {
        Text = text;
        _levels = levels;
        _multiLevel = multiLevel;
        Prefix = prefix;
    }

    /// <summary>The pattern as given.</summary>
    public string Text { get; }

    /// <summary>
    /// What every matching id starts with: the literal levels before the first wildcard (with the <c>/</c> after
    /// them when a <c>+</c> follows), or the whole id when there is no wildcard. Empty for <c>#</c> and <c>+/...</c>.
    /// A sorted index walks from it.
    /// </summary>
    public string Prefix { get; }

    /// <summary>Whether the pattern has a wildcard: without one it matches exactly one id.</summary>
    public bool HasWildcards => _multiLevel || Array.IndexOf(_levels, "+") >= 0;

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The pattern is malformed; the message names the problem.</exception>
    public static SensorPattern Parse(string? text) =>
        TryParse(text, out var pattern, out var problem) ? pattern : throw new FormatException($"Pattern '{text}' {problem}.");

    /// <summary>
    /// Parses <paramref name="text"/>: 1 to <see cref="MaxLength"/> characters of sensor ids (<see cref="SensorId"/>)
    /// and the wildcards <c>+</c> and <c>#</c>, each a whole level, <c>#</c> only last, and no empty first level
    /// (ids do not start with <c>/</c>).
    /// </summary>
    /// <param name="text">The pattern.</param>
    /// <param name="pattern">The parsed pattern, when valid.</param>
    /// <param name="problem">What is wrong, as a phrase to follow the pattern in a message.</param>
    public static bool TryParse(
        [NotNullWhen(true)] string? text, [NotNullWhen(true)] out SensorPattern? pattern, [NotNullWhen(false)] out string? problem)
    {
        pattern = null;
        if (text is null)
        {
            problem = "is required";
            return false;
        }
        if (text.Length == 0)
        {
            problem = "is empty";
            return false;
        }
        if (text.Length > MaxLength)
        {
            problem = $"is {text.Length} characters long; at most {MaxLength} are allowed";
            return false;
        }
        if (text[0] == '/')
        {
            problem = "starts with '/': sensor ids have no empty first level";
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or '/' or '+' or '#'))
            {
                var shown = char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
                problem = $"contains {shown}; only ASCII letters, digits, . _ - / and the wildcards + and # are allowed";
                return false;
            }
        }
        var levels = text.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Length > 1 && (level.Contains('+') || level.Contains('#')))
            {
                problem = $"has a wildcard inside the level '{level}'; + and # must stand for a whole level";
                return false;
            }
            if (level == "#" && i != levels.Length - 1)
            {
                problem = "has '#' before its last level; '#' may only be the last level";
                return false;
            }
        }
        var multiLevel = levels[^1] == "#";
        var literal = multiLevel ? levels[..^1] : levels;
        var firstWildcard = Array.IndexOf(literal, "+");
        string prefix;
        if (firstWildcard < 0)
            prefix = string.Join('/', literal);
        else
            prefix = firstWildcard == 0 ? "" : string.Join('/', literal[..firstWildcard]) + "/";
        pattern = new SensorPattern(text, multiLevel ? levels[..^1] : levels, multiLevel, prefix);
        problem = null;
        return true;
    }

    /// <summary>Whether <paramref name="sensorId"/> matches, level by level, without allocating.</summary>
    public bool Matches(string sensorId)
    {
        ArgumentNullException.ThrowIfNull(sensorId);
        var start = 0;
        var level = 0;
        while (true)
        {
            // Every level before '#' matched and the id goes on: '#' takes the rest, anything else does not match.
            if (level == _levels.Length)
                return _multiLevel;
            var slash = sensorId.IndexOf('/', start);
            var end = slash < 0 ? sensorId.Length : slash;
            var expected = _levels[level];
            if (expected != "+" && !sensorId.AsSpan(start, end - start).SequenceEqual(expected))
                return false;
            level++;
            // The id ends here: a match when every level before '#' is used ('#' also matches the parent level).
            if (slash < 0)
                return level == _levels.Length;
            start = slash + 1;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
