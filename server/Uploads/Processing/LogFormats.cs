using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Reads a log line's level in the formats common tools write, a small recogniser per format, and by the general rule
/// for a line no recogniser knows. Every recogniser looks at one line only, allocates nothing (the JSON one rents its
/// buffer), and never throws.
/// </summary>
internal static class LogFormats
{
    /// <summary>The recognisers, in the order a line tries them after its file's own format.</summary>
    public static ImmutableArray<LogFormat> All { get; } =
    [
        new("aspnetcore", AspNetCore),
        new("nginx", Nginx),
        new("serilog", Serilog),
        new("json", Json),
        new("syslog", Syslog),
        new("log4j", Log4j),
        new("python", Python),
    ];

    /// <summary>The recogniser of that name, or <see langword="null"/> (an unknown or empty name).</summary>
    public static LogFormat? Find(string name)
    {
        foreach (var format in All)
        {
            if (format.Name == name)
                return format;
        }
        return null;
    }

    // ---- Level words ----

    /// <summary>Level words in formats that write them in any case (syslog's word after the program, JSON values).</summary>
    private static readonly FrozenDictionary<string, LineLevel>.AlternateLookup<ReadOnlySpan<char>> s_words = new Dictionary<string, LineLevel>
    {
        ["emerg"] = LineLevel.Error, ["emergency"] = LineLevel.Error, ["alert"] = LineLevel.Error, ["panic"] = LineLevel.Error,
        ["crit"] = LineLevel.Error, ["critical"] = LineLevel.Error, ["fatal"] = LineLevel.Error, ["severe"] = LineLevel.Error,
        ["err"] = LineLevel.Error, ["error"] = LineLevel.Error,
        ["warn"] = LineLevel.Warning, ["warning"] = LineLevel.Warning,
        ["notice"] = LineLevel.Info, ["info"] = LineLevel.Info, ["information"] = LineLevel.Info, ["informational"] = LineLevel.Info,
        ["debug"] = LineLevel.Debug, ["trace"] = LineLevel.Debug, ["verbose"] = LineLevel.Debug,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>nginx's <c>error_log</c> levels, written lowercase in brackets.</summary>
    private static readonly FrozenDictionary<string, LineLevel>.AlternateLookup<ReadOnlySpan<char>> s_nginxWords = new Dictionary<string, LineLevel>
    {
        ["emerg"] = LineLevel.Error, ["alert"] = LineLevel.Error, ["crit"] = LineLevel.Error, ["error"] = LineLevel.Error,
        ["warn"] = LineLevel.Warning, ["notice"] = LineLevel.Info, ["info"] = LineLevel.Info, ["debug"] = LineLevel.Debug,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    private static LineLevel Word(ReadOnlySpan<char> word) => s_words.TryGetValue(word, out var level) ? level : LineLevel.None;

    // ---- ASP.NET Core SimpleConsoleFormatter: "fail: Category[0]", optionally after "[timestamp] " ----

    private static bool AspNetCore(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        if (line.StartsWith('['))
        {
            var close = line.IndexOf(']');
            if (close < 0 || close > 64 || close + 1 >= line.Length || line[close + 1] != ' ')
                return false;
            line = line[(close + 1)..].TrimStart(' ');
        }
        // "info: " and then the category (or, single-line, the category and the message): never a space.
        if (line.Length < 7 || line[4] != ':' || line[5] != ' ' || line[6] == ' ')
            return false;
        level = line[..4] switch
        {
            "trce" or "dbug" => LineLevel.Debug,
            "info" => LineLevel.Info,
            "warn" => LineLevel.Warning,
            "fail" or "crit" => LineLevel.Error,
            _ => LineLevel.None,
        };
        return level != LineLevel.None;
    }

    // ---- nginx error log: "2026/11/30 03:00:00 [error] 1234#1234: ..." ----

    private static bool Nginx(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        if (!Shaped(line, "dddd/dd/dd dd:dd:dd ["))
            return false;
        var close = line[21..].IndexOf(']');
        if (close <= 0 || !s_nginxWords.TryGetValue(line.Slice(21, close), out level))
            return false;
        return true;
    }

    // ---- Serilog: console "[03:00:02 ERR] msg", file "2026-11-30 03:00:00.000 +00:00 [ERR] msg" ----

    private static bool Serilog(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        var open = line.IndexOf('[');
        if (open < 0 || open > 48)
            return false;
        var close = line[open..].IndexOf(']');
        if (close < 4)
            return false;
        var inside = line.Slice(open + 1, close - 1);
        var before = line[..open];
        if (open == 0)
        {
            // Console: the time and the level share the brackets.
            if (inside.Length < 5 || inside[^4] != ' ' || !IsTimestamp(inside[..^4]) || !char.IsAsciiDigit(inside[0]))
                return false;
            level = U3(inside[^3..]);
        }
        else
        {
            // File: a timestamp, a space, then the level alone in brackets.
            if (inside.Length != 3 || before.Length < 11 || before[^1] != ' ' || !char.IsAsciiDigit(before[0]) || !IsTimestamp(before[..^1]))
                return false;
            level = U3(inside);
        }
        return level != LineLevel.None;
    }

    private static LineLevel U3(ReadOnlySpan<char> level) => level switch
    {
        "VRB" or "DBG" => LineLevel.Debug,
        "INF" => LineLevel.Info,
        "WRN" => LineLevel.Warning,
        "ERR" or "FTL" => LineLevel.Error,
        _ => LineLevel.None,
    };

    private static readonly SearchValues<char> s_timestampChars = SearchValues.Create("0123456789-:.,+ TZ/");

    private static bool IsTimestamp(ReadOnlySpan<char> text) => text.Length > 0 && !text.ContainsAnyExcept(s_timestampChars);

    // ---- JSON lines: {"level":"error",...} ----

    private static bool Json(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        // A line cut short (a truncated write, or past the 64 KiB line bound) is common enough to be told apart
        // without a JsonException, which costs far more than the line.
        if (!line.StartsWith('{') || !line.TrimEnd().EndsWith('}'))
            return false;
        // Most lines fit on the stack; a long one (up to the 64 KiB line bound) borrows from the pool.
        var most = Encoding.UTF8.GetMaxByteCount(line.Length);
        var rented = most > 4096 ? ArrayPool<byte>.Shared.Rent(most) : null;
        try
        {
            var bytes = rented ?? stackalloc byte[4096];
            var length = Encoding.UTF8.GetBytes(line, bytes);
            return ReadJson(bytes[..length], out level);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Whether the line is one JSON object, and its level: the first of <c>level</c>, <c>lvl</c>, <c>severity</c>,
    /// <c>levelname</c>, <c>log.level</c> (flat, or <c>level</c> inside <c>log</c>) and Serilog's compact <c>@l</c>;
    /// a compact event (<c>@t</c>) without <c>@l</c> is Information.
    /// </summary>
    private static bool ReadJson(ReadOnlySpan<byte> utf8, out LineLevel level)
    {
        level = LineLevel.None;
        var found = false;
        var compact = false;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isLevel = reader.ValueTextEquals("level"u8) || reader.ValueTextEquals("lvl"u8) || reader.ValueTextEquals("severity"u8)
                    || reader.ValueTextEquals("levelname"u8) || reader.ValueTextEquals("log.level"u8) || reader.ValueTextEquals("@l"u8);
                var isLog = reader.ValueTextEquals("log"u8);
                compact |= reader.ValueTextEquals("@t"u8);
                reader.Read();
                if (!found && isLevel)
                    found = JsonLevel(ref reader, out level);
                else if (!found && isLog && reader.TokenType == JsonTokenType.StartObject)
                    found = NestedLevel(ref reader, out level);
                else
                    reader.Skip();
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return false;
        }
        catch (JsonException)
        {
            // Not one well-formed JSON object (a truncated line, two objects, a stray character): no format's line.
            level = LineLevel.None;
            return false;
        }
        if (!found && compact)
            level = LineLevel.Info;
        return true;
    }

    /// <summary>Reads <c>{"level": ...}</c> inside a <c>log</c> object, leaving the reader on its end.</summary>
    private static bool NestedLevel(ref Utf8JsonReader reader, out LineLevel level)
    {
        level = LineLevel.None;
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isLevel = reader.ValueTextEquals("level"u8);
            reader.Read();
            if (!found && isLevel)
                found = JsonLevel(ref reader, out level);
            else
                reader.Skip();
        }
        return found;
    }

    /// <summary>
    /// A level value: a word in any case, or a number: 0..7 a syslog severity (GELF), 10..60 and above pino's and
    /// bunyan's levels (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal).
    /// </summary>
    private static bool JsonLevel(ref Utf8JsonReader reader, out LineLevel level)
    {
        level = LineLevel.None;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                Span<char> word = stackalloc char[16];
                if (reader.HasValueSequence || reader.ValueSpan.Length > word.Length)
                    return false;
                var written = reader.CopyString(word);
                level = Word(word[..written]);
                return level != LineLevel.None;
            case JsonTokenType.Number when reader.TryGetInt64(out var number):
                level = number switch
                {
                    >= 0 and <= 7 => Severity((int)number),
                    >= 50 => LineLevel.Error,
                    >= 40 => LineLevel.Warning,
                    >= 30 => LineLevel.Info,
                    >= 10 => LineLevel.Debug,
                    _ => LineLevel.None,
                };
                return level != LineLevel.None;
            default:
                reader.Skip();
                return false;
        }
    }

    // ---- syslog: "<PRI>...", or RFC 3164 text "Nov 30 03:00:05 host sshd[123]: error: ..." ----

    /// <summary>A syslog severity (0 emergency .. 7 debug).</summary>
    private static LineLevel Severity(int severity) => severity switch
    {
        <= 3 => LineLevel.Error,
        4 => LineLevel.Warning,
        5 or 6 => LineLevel.Info,
        _ => LineLevel.Debug,
    };

    private const string Months = "JanFebMarAprMayJunJulAugSepOctNovDec";

    private static bool IsMonth(ReadOnlySpan<char> name)
    {
        for (var i = 0; i < Months.Length; i += 3)
        {
            if (name.SequenceEqual(Months.AsSpan(i, 3)))
                return true;
        }
        return false;
    }

    private static bool Syslog(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        if (line.StartsWith('<'))
        {
            // The priority is facility × 8 + severity, 0..191, and something follows it.
            var close = line.IndexOf('>');
            if (close is < 2 or > 4 || close + 1 >= line.Length || !int.TryParse(line[1..close], System.Globalization.NumberStyles.None, null, out var priority) || priority > 191)
                return false;
            level = Severity(priority % 8);
            return true;
        }
        var rest = SkipSyslogTime(line);
        if (rest.IsEmpty)
            return false;
        // The host, then the tag ("prog" or "prog[pid]") ended by ": ".
        var space = rest.IndexOf(' ');
        if (space <= 0)
            return false;
        rest = rest[(space + 1)..];
        var colon = rest.IndexOf(": ");
        if (colon <= 0 || rest[..colon].Contains(' '))
            return false;
        rest = rest[(colon + 2)..];
        // The level word, when the program wrote one ("error: ", "warning: "); any case.
        var end = rest.IndexOf(':');
        if (end > 0 && end <= 13)
            level = Word(rest[..end]);
        return true;
    }

    /// <summary>What follows an RFC 3164 time ("Nov 30 03:00:05 ", "Nov  3 03:00:05 ") or an ISO one with a T; empty if neither.</summary>
    private static ReadOnlySpan<char> SkipSyslogTime(ReadOnlySpan<char> line)
    {
        if (line.Length > 16 && IsMonth(line[..3]) && line[3] == ' '
            && (line[4] == ' ' || char.IsAsciiDigit(line[4])) && char.IsAsciiDigit(line[5])
            && Shaped(line[6..], " dd:dd:dd "))
            return line[16..];
        if (Shaped(line, "dddd-dd-ddTdd:dd:dd"))
        {
            var space = line.IndexOf(' ');
            return space > 0 ? line[(space + 1)..] : [];
        }
        return [];
    }

    // ---- log4j / Logback: "2026-11-30 03:00:06,123 ERROR [main] c.x.Y - msg", "03:00:06.123 [main] ERROR c.x.Y - msg" ----

    private static bool Log4j(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        if (line.IsEmpty || !char.IsAsciiDigit(line[0]))
            return false;
        // The level is an uppercase word among the first ones, next to the [thread] on either side.
        var head = line[..Math.Min(line.Length, 96)];
        var at = 0;
        while (at < head.Length)
        {
            var space = head[at..].IndexOf(' ');
            var word = space < 0 ? head[at..] : head.Slice(at, space);
            var found = word switch
            {
                "TRACE" or "DEBUG" => LineLevel.Debug,
                "INFO" => LineLevel.Info,
                "WARN" => LineLevel.Warning,
                "ERROR" or "FATAL" => LineLevel.Error,
                _ => LineLevel.None,
            };
            if (found != LineLevel.None)
            {
                var threadBefore = head[..at].TrimEnd(' ').EndsWith(']');
                var threadAfter = head[(at + word.Length)..].TrimStart(' ').StartsWith('[');
                if (threadBefore || threadAfter)
                {
                    level = found;
                    return true;
                }
            }
            if (space < 0)
                break;
            at += space + 1;
        }
        return false;
    }

    // ---- Python logging's default: "ERROR:root:msg" ----

    private static bool Python(ReadOnlySpan<char> line, out LineLevel level)
    {
        level = LineLevel.None;
        var colon = line.IndexOf(':');
        if (colon < 4 || colon > 8)
            return false;
        level = line[..colon] switch
        {
            "DEBUG" => LineLevel.Debug,
            "INFO" => LineLevel.Info,
            "WARNING" => LineLevel.Warning,
            "ERROR" or "CRITICAL" => LineLevel.Error,
            _ => LineLevel.None,
        };
        if (level == LineLevel.None)
            return false;
        // Then the logger's name, which has no spaces, and a colon.
        var name = line[(colon + 1)..];
        var end = name.IndexOf(':');
        if (end <= 0 || name[..end].ContainsAny(' ', '\t'))
        {
            level = LineLevel.None;
            return false;
        }
        return true;
    }

    // ---- The general rule ----

    private static readonly (string Token, LineLevel Level)[] s_tokens =
    [
        ("ERROR", LineLevel.Error), ("FATAL", LineLevel.Error), ("CRITICAL", LineLevel.Error), ("CRIT", LineLevel.Error),
        ("SEVERE", LineLevel.Error), ("EMERG", LineLevel.Error), ("ALERT", LineLevel.Error),
        ("WARNING", LineLevel.Warning), ("WARN", LineLevel.Warning),
        ("INFO", LineLevel.Info), ("NOTICE", LineLevel.Info),
        ("DEBUG", LineLevel.Debug), ("TRACE", LineLevel.Debug),
    ];

    private static readonly SearchValues<string> s_tokenSearch =
        SearchValues.Create([.. s_tokens.Select(t => t.Token)], StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The general rule: the earliest token that is either an UPPERCASE level word standing alone (neither neighbour a
    /// letter, a digit or <c>_</c>), or a level word in any case alone in brackets (<c>[error]</c>, <c>[Warning]</c>).
    /// Words: ERROR FATAL CRITICAL CRIT SEVERE EMERG ALERT (error), WARN WARNING (warning), INFO NOTICE (info),
    /// DEBUG TRACE (debug).
    /// </summary>
    public static LineLevel GeneralRule(ReadOnlySpan<char> line)
    {
        var offset = 0;
        while (offset < line.Length)
        {
            var found = line[offset..].IndexOfAny(s_tokenSearch);
            if (found < 0)
                return LineLevel.None;
            var at = offset + found;
            // CRITICAL and CRIT, WARNING and WARN can match at one position: the longer comes first in the table, and
            // the shorter fails its right-hand boundary when the longer is there.
            foreach (var (token, level) in s_tokens)
            {
                var rest = line[at..];
                if (!rest.StartsWith(token, StringComparison.OrdinalIgnoreCase))
                    continue;
                if (rest.StartsWith(token, StringComparison.Ordinal) && StandsAlone(line, at, token.Length))
                    return level;
                if (at > 0 && line[at - 1] == '[' && at + token.Length < line.Length && line[at + token.Length] == ']')
                    return level;
            }
            offset = at + 1;
        }
        return LineLevel.None;
    }

    /// <summary>Whether the characters before and after the token, whole code points, are neither letters, digits nor <c>_</c>.</summary>
    private static bool StandsAlone(ReadOnlySpan<char> line, int at, int length) =>
        (at == 0 || !IsWordRune(Rune.DecodeLastFromUtf16(line[..at], out var before, out _), before))
        && (at + length == line.Length || !IsWordRune(Rune.DecodeFromUtf16(line[(at + length)..], out var after, out _), after));

    private static bool IsWordRune(OperationStatus status, Rune rune) =>
        status == OperationStatus.Done && (Rune.IsLetterOrDigit(rune) || rune.Value == '_');

    /// <summary>Whether the line starts with the pattern, where <c>d</c> is an ASCII digit and any other character itself.</summary>
    private static bool Shaped(ReadOnlySpan<char> line, ReadOnlySpan<char> pattern)
    {
        if (line.Length < pattern.Length)
            return false;
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == 'd' ? !char.IsAsciiDigit(line[i]) : line[i] != pattern[i])
                return false;
        }
        return true;
    }
}

/// <summary>Reads one line in one format: whether the line has the format's shape, and its level (none if it gives none).</summary>
internal delegate bool LogRecogniser(ReadOnlySpan<char> line, out LineLevel level);

/// <summary>A log format by name (as <c>LogSummary.format</c> reports it) and its recogniser.</summary>
internal sealed record LogFormat(string Name, LogRecogniser Recognise);

/// <summary>A log entry's level.</summary>
internal enum LineLevel
{
    None,
    Error,
    Warning,
    Info,
    Debug,
}
