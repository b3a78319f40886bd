using SensorHub.Server.Feeds;
using SensorHub.Contracts;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Counts a text log's entries by level. An entry is a line and the continuation lines below it (indented lines,
/// <c>Caused by: </c>, <c>... N more</c>, a Java or .NET exception's name line, a Python traceback), counted once at
/// its first line's level; blank lines are no entry. A first line's level is read by its file's format first, then by
/// the other formats' recognisers, then by the general rule (<see cref="LogFormats"/>). The file's format is the first
/// that recognises an entry within its first <see cref="DetectionLines"/> lines.
/// </summary>
internal sealed class LogProcessor : IUploadProcessor
{
    /// <summary>Lines within which the file's format is recognised, or not at all.</summary>
    public const int DetectionLines = 100;

    private const int MaxSampleLength = 1_000;
    private const string Traceback = "Traceback (most recent call last):";

    private readonly int _maxSamples;
    private readonly LineAssembler _lines;
    private readonly LineHandler _onLine;
    private readonly List<LineSample> _firstErrors = [];
    private long _entries, _errors, _warnings, _infos, _debug, _other;
    private LogFormat? _format;
    private bool _entryAbove, _inTraceback;

    /// <summary>A processor that goes on from <paramref name="from"/>, or starts at the first byte.</summary>
    public LogProcessor(int maxSamples, ProcessingCheckpoint? from = null)
    {
        _maxSamples = maxSamples;
        _onLine = Count;
        from ??= ProcessingCheckpoint.Start;
        _lines = new LineAssembler(from.Lines, from.Bytes);
        if (from.Log is { } log)
        {
            (_errors, _warnings, _infos, _debug, _other) = (log.Errors, log.Warnings, log.Infos, log.Debug, log.Other);
            _firstErrors.AddRange(log.FirstErrors);
            _format = LogFormats.Find(log.Format);
            // A summary saved before entries existed counted every line, blank ones in "other", as one: they stay
            // entries, so that the levels still add up to them.
            _entries = from.LogState is null ? _errors + _warnings + _infos + _debug + _other : log.Entries;
        }
        if (from.LogState is { } state)
            (_entryAbove, _inTraceback) = (state.EntryAbove, state.InTraceback);
        else
            _entryAbove = from.Lines > 0;
    }

    public ProcessingCheckpoint Checkpoint => new()
    {
        Bytes = _lines.LineEnd,
        Lines = _lines.Lines,
        Log = Summary(),
        LogState = new LogState { EntryAbove = _entryAbove, InTraceback = _inTraceback },
    };

    public ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, Publisher? publisher, CancellationToken cancellationToken)
    {
        _lines.Feed(chunk.Span, _onLine);
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(Publisher? publisher, CancellationToken cancellationToken)
    {
        _lines.Complete(_onLine);
        return ValueTask.CompletedTask;
    }

    public UploadResult Summarize(UploadResult result) => result with { Log = Summary() };

    private LogSummary Summary() => new()
    {
        Lines = _lines.Lines,
        Entries = _entries,
        Errors = _errors,
        Warnings = _warnings,
        Infos = _infos,
        Debug = _debug,
        Other = _other,
        Format = _format?.Name ?? "",
        FirstErrors = [.. _firstErrors],
    };

    /// <summary>The level of one line read on its own as an entry's first line: every recogniser, then the general rule.</summary>
    public static LineLevel LevelOf(ReadOnlySpan<char> line) => LevelOf(line, null, out _);

    /// <summary>
    /// The level of an entry's first line: by <paramref name="format"/> first, then the other recognisers, then the
    /// general rule; <paramref name="recognisedBy"/> is the first format whose shape the line has, if any.
    /// </summary>
    private static LineLevel LevelOf(ReadOnlySpan<char> line, LogFormat? format, out LogFormat? recognisedBy)
    {
        recognisedBy = null;
        if (format is not null && format.Recognise(line, out var level))
        {
            recognisedBy = format;
            if (level != LineLevel.None)
                return level;
        }
        foreach (var other in LogFormats.All)
        {
            if (other == format || !other.Recognise(line, out level))
                continue;
            recognisedBy ??= other;
            if (level != LineLevel.None)
                return level;
        }
        return LogFormats.GeneralRule(line);
    }

    private void Count(ReadOnlySpan<char> line, long number)
    {
        if (line.IsWhiteSpace())
            return;
        if (_entryAbove && Continues(line))
            return;
        _inTraceback = line.StartsWith(Traceback, StringComparison.Ordinal);
        _entryAbove = true;
        _entries++;
        var level = LevelOf(line, _format, out var recognisedBy);
        if (_format is null && number <= DetectionLines)
            _format = recognisedBy;
        switch (level)
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
            case LineLevel.Debug:
                _debug++;
                break;
            default:
                _other++;
                break;
        }
    }

    /// <summary>Whether a non-blank line continues the entry above (there is one), moving the traceback state on.</summary>
    private bool Continues(ReadOnlySpan<char> line)
    {
        if (line[0] is ' ' or '\t')
            return true;
        if (line.StartsWith(Traceback, StringComparison.Ordinal))
        {
            _inTraceback = true;
            return true;
        }
        if (_inTraceback)
        {
            // The unindented line that ends a traceback is its exception ("ValueError: bad"), unless the traceback
            // was cut short and a new entry in a known format begins.
            _inTraceback = false;
            return !IsRecognised(line);
        }
        return line.StartsWith("Caused by: ", StringComparison.Ordinal)
            || IsMoreFrames(line)
            || line.SequenceEqual("During handling of the above exception, another exception occurred:")
            || line.SequenceEqual("The above exception was the direct cause of the following exception:")
            || IsExceptionName(line);
    }

    private static bool IsRecognised(ReadOnlySpan<char> line)
    {
        foreach (var format in LogFormats.All)
        {
            if (format.Recognise(line, out _))
                return true;
        }
        return false;
    }

    /// <summary>Java's "... 12 more", which ends a cause's frames.</summary>
    private static bool IsMoreFrames(ReadOnlySpan<char> line)
    {
        if (!line.StartsWith("... ", StringComparison.Ordinal))
            return false;
        var rest = line[4..];
        var digits = rest.IndexOfAnyExceptInRange('0', '9');
        return digits > 0 && rest[digits..].SequenceEqual(" more");
    }

    /// <summary>
    /// A Java or .NET exception's first line, as a logger writes it under the entry: a dotted class name ending in
    /// <c>Exception</c>, <c>Error</c> or <c>Throwable</c>, alone or followed by <c>:</c> and its message
    /// (<c>java.lang.IllegalStateException: boom</c>, <c>System.InvalidOperationException: boom</c>).
    /// </summary>
    private static bool IsExceptionName(ReadOnlySpan<char> line)
    {
        var end = line.IndexOf(':');
        var name = end < 0 ? line : line[..end];
        if (name.IsEmpty || !char.IsAsciiLetter(name[0]) || !name.Contains('.') || name[^1] == '.')
            return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '$'))
                return false;
        }
        return name.EndsWith("Exception", StringComparison.Ordinal) || name.EndsWith("Error", StringComparison.Ordinal)
            || name.EndsWith("Throwable", StringComparison.Ordinal);
    }
}
