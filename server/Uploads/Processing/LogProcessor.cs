using System.Buffers;
using System.Text;
using SensorHub.Server.Feeds;
using SensorHub.Contracts;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Counts a text log's lines by level. A line's level is given by the earliest, by position, of the tokens
/// <c>ERROR</c>, <c>WARN</c>, <c>WARNING</c>, <c>INFO</c> (case-sensitive), where a token counts only when neither
/// neighbour is a letter, a digit or <c>_</c>: <c>[ERROR]</c> and <c>level=ERROR</c> count, <c>ERRORS</c> does not.
/// </summary>
internal sealed class LogProcessor : IUploadProcessor
{
    private const int MaxSampleLength = 1_000;
    private static readonly SearchValues<string> s_tokens =
        SearchValues.Create(["ERROR", "WARNING", "WARN", "INFO"], StringComparison.Ordinal);

    private static readonly (string Token, LineLevel Level)[] s_levels =
        [("ERROR", LineLevel.Error), ("WARNING", LineLevel.Warning), ("WARN", LineLevel.Warning), ("INFO", LineLevel.Info)];

    private readonly int _maxSamples;
    private readonly LineAssembler _lines;
    private readonly List<LineSample> _firstErrors = [];
    private long _errors, _warnings, _infos, _other;

    /// <summary>A processor that goes on from <paramref name="from"/>, or starts at the first byte.</summary>
    public LogProcessor(int maxSamples, ProcessingCheckpoint? from = null)
    {
        _maxSamples = maxSamples;
        from ??= ProcessingCheckpoint.Start;
        _lines = new LineAssembler(from.Lines, from.Bytes);
        if (from.Log is { } log)
        {
            (_errors, _warnings, _infos, _other) = (log.Errors, log.Warnings, log.Infos, log.Other);
            _firstErrors.AddRange(log.FirstErrors);
        }
    }

    public ProcessingCheckpoint Checkpoint => new() { Bytes = _lines.LineEnd, Lines = _lines.Lines, Log = Summary() };

    public ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, Publisher? publisher, CancellationToken cancellationToken)
    {
        _lines.Feed(chunk.Span, Count);
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(Publisher? publisher, CancellationToken cancellationToken)
    {
        _lines.Complete(Count);
        return ValueTask.CompletedTask;
    }

    public UploadResult Summarize(UploadResult result) => result with { Log = Summary() };

    private LogSummary Summary() => new()
    {
        Lines = _lines.Lines,
        Errors = _errors,
        Warnings = _warnings,
        Infos = _infos,
        Other = _other,
        FirstErrors = [.. _firstErrors],
    };

    /// <summary>The level of one line: the earliest level token that stands alone.</summary>
    public static LineLevel LevelOf(ReadOnlySpan<char> line)
    {
        var offset = 0;
        while (offset < line.Length)
        {
            var found = line[offset..].IndexOfAny(s_tokens);
            if (found < 0)
                return LineLevel.None;
            var at = offset + found;
            // WARNING and WARN can both match at one position: the longer is tried first, and WARN followed by "ING"
            // fails its right-hand boundary anyway.
            foreach (var (token, level) in s_levels)
            {
                if (line[at..].StartsWith(token, StringComparison.Ordinal) && StandsAlone(line, at, token.Length))
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

    private void Count(ReadOnlySpan<char> line, long number)
    {
        switch (LevelOf(line))
        {
            case LineLevel.Error:
                _errors++;
                if (_firstErrors.Count < _maxSamples)
                    _firstErrors.Add(new LineSample { Line = number, Text = new string(line[..Math.Min(line.Length, MaxSampleLength)]) });
                break;
            case LineLevel.Warning:
                _warnings++;
                break;
            case LineLevel.Info:
                _infos++;
                break;
            default:
                _other++;
                break;
        }
    }
}

/// <summary>A log line's level.</summary>
internal enum LineLevel
{
    None,
    Error,
    Warning,
    Info,
}
