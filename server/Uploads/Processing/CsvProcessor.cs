using System.Globalization;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Publishes a CSV upload's rows, <c>sensorId,timestamp,value</c>, into the feed as they arrive, through the same
/// checks as <c>Publish</c>. The timestamp is ISO 8601 (UTC unless it says otherwise) or Unix milliseconds. Line 1 is
/// a header when it has a value column that is not a number. Blank lines are skipped and are not rows.
/// </summary>
internal sealed class CsvProcessor : IUploadProcessor
{
    private const int MaxQuoted = 64;
    private const int MaxCachedIds = 1_024;
    private readonly ReadingIngest _ingest;
    private readonly int _maxSamples;
    private readonly UploadMetrics? _metrics;
    private readonly LineAssembler _lines;
    private readonly List<Row> _parsed = [];
    // A CSV export names a few sensors many times: each id becomes one string, not one per row.
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
    private readonly List<RowRejection> _firstRejections = [];
    private long _rows, _accepted, _rejected;
    // The end of the last line whose row (if it had one) is counted: rows are parsed a chunk at a time but published
    // one by one, and a failure in between must not count, nor publish again, the rows before it.
    private long _handledBytes, _handledLines;

    /// <summary>A processor that goes on from <paramref name="from"/>, or starts at the first byte.</summary>
    /// <param name="ingest">Where rows are checked and published.</param>
    /// <param name="maxSamples">The most rejections the summary names.</param>
    /// <param name="from">The checkpoint to go on from; none: the first byte.</param>
    /// <param name="metrics">Where the rows published are counted; none in tests of the processor alone.</param>
    public CsvProcessor(ReadingIngest ingest, int maxSamples, ProcessingCheckpoint? from = null, UploadMetrics? metrics = null)
    {
        _ingest = ingest;
        _maxSamples = maxSamples;
        _metrics = metrics;
        from ??= ProcessingCheckpoint.Start;
        _lines = new LineAssembler(from.Lines, from.Bytes);
        (_handledBytes, _handledLines) = (from.Bytes, from.Lines);
        if (from.Csv is { } csv)
        {
            (_rows, _accepted, _rejected) = (csv.Rows, csv.Accepted, csv.Rejected);
            _firstRejections.AddRange(csv.FirstRejections);
        }
    }

    public ProcessingCheckpoint Checkpoint => new() { Bytes = _handledBytes, Lines = _handledLines, Csv = Summary() };

    public async ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, Publisher? publisher, CancellationToken cancellationToken)
    {
        _lines.Feed(chunk.Span, Parse);
        await PublishParsedAsync(publisher, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask CompleteAsync(Publisher? publisher, CancellationToken cancellationToken)
    {
        _lines.Complete(Parse);
        await PublishParsedAsync(publisher, cancellationToken).ConfigureAwait(false);
    }

    public UploadResult Summarize(UploadResult result) => result with { Csv = Summary() };

    private CsvSummary Summary() =>
        new() { Rows = _rows, Accepted = _accepted, Rejected = _rejected, FirstRejections = [.. _firstRejections] };

    private async ValueTask PublishParsedAsync(Publisher? publisher, CancellationToken cancellationToken)
    {
        // Rows that did not parse wait here with their reason too, so that rejections are reported in line order.
        var acceptedBefore = _accepted;
        try
        {
            foreach (var row in _parsed)
            {
                var rejection = await RejectionOfAsync(row, publisher, cancellationToken).ConfigureAwait(false);
                _rows++;
                if (rejection is { } rejected)
                    Reject(row.Line, rejected);
                else
                    _accepted++;
                (_handledBytes, _handledLines) = (row.End, row.Line);
            }
        }
        finally
        {
            // Once per batch, not per row; also for the rows published before a failure. Without a publisher the rows
            // were only looked at again, not published.
            if (publisher is not null)
                _metrics?.CsvRowsPublished(_accepted - acceptedBefore);
        }
        _parsed.Clear();
        (_handledBytes, _handledLines) = (_lines.LineEnd, _lines.Lines);
    }

    /// <summary>
    /// Why a row is rejected, or <see langword="null"/> once it is published. Without a publisher nothing is published
    /// and nothing counted as a refusal: the row is only looked at.
    /// </summary>
    private ValueTask<ItemRejection?> RejectionOfAsync(Row row, Publisher? publisher, CancellationToken cancellationToken)
    {
        if (row.Rejection is { } unparsable)
        {
            return ValueTask.FromResult<ItemRejection?>(
                publisher is null ? new ItemRejection(SensorHubErrors.InvalidArgument, unparsable) : _ingest.Reject(SensorHubErrors.InvalidArgument, unparsable));
        }
        if (publisher is not null)
            return _ingest.PublishOneAsync(row.SensorId, row.Value, row.Timestamp, publisher, cancellationToken);
        return ValueTask.FromResult<ItemRejection?>(
            _ingest.Check(row.SensorId, row.Value, row.Timestamp) is { } problem ? new ItemRejection(SensorHubErrors.InvalidArgument, problem) : null);
    }

    private void Parse(ReadOnlySpan<char> line, long number)
    {
        if (line.IsWhiteSpace())
            return;

        Span<Range> ranges = stackalloc Range[4];
        var count = line.Split(ranges, ',');
        if (number == 1 && count >= 3 && !double.TryParse(Field(line, ranges[2]), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return;

        if (count != 3)
        {
            Unparsable(number, $"expected 3 fields (sensorId,timestamp,value), found {(count > 3 ? "more than 3" : count.ToString(CultureInfo.InvariantCulture))}");
            return;
        }
        var timestampText = Field(line, ranges[1]);
        if (!TryParseTimestamp(timestampText, out var timestamp))
        {
            Unparsable(number, $"timestamp '{Quote(timestampText)}' is neither ISO 8601 nor Unix milliseconds");
            return;
        }
        var valueText = Field(line, ranges[2]);
        if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            Unparsable(number, $"value '{Quote(valueText)}' is not a number");
            return;
        }
        _parsed.Add(new Row(number, _lines.LineEnd, IdOf(Field(line, ranges[0])), timestamp, value));
    }

    private string IdOf(ReadOnlySpan<char> field)
    {
        var cached = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        if (cached.TryGetValue(field, out var id))
            return id;
        id = field.ToString();
        if (_ids.Count < MaxCachedIds)
            _ids[id] = id;
        return id;
    }

    private static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTime timestamp)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milliseconds))
        {
            var valid = milliseconds is >= -62_135_596_800_000 and <= 253_402_300_799_999;
            timestamp = valid ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime : default;
            return valid;
        }
        var parsed = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant);
        timestamp = instant.UtcDateTime;
        return parsed;
    }

    /// <summary>A field without surrounding blanks and quotes.</summary>
    private static ReadOnlySpan<char> Field(ReadOnlySpan<char> line, Range range) => line[range].Trim().Trim('"');

    private static string Quote(ReadOnlySpan<char> text) =>
        text.Length <= MaxQuoted ? text.ToString() : string.Concat(text[..MaxQuoted], "…");

    private void Unparsable(long line, string reason) => _parsed.Add(new Row(line, _lines.LineEnd, "", default, 0, reason));

    private void Reject(long line, ItemRejection rejection)
    {
        _rejected++;
        if (_firstRejections.Count < _maxSamples)
            _firstRejections.Add(new RowRejection { Line = line, Code = rejection.Code, Reason = rejection.Reason });
    }

    /// <summary>A row parsed from line <paramref name="Line"/>, which ends after <paramref name="End"/> bytes of the upload.</summary>
    private readonly record struct Row(long Line, long End, string SensorId, DateTime Timestamp, double Value, string? Rejection = null);
}
