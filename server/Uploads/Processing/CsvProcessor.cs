using System.Globalization;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Publishes a CSV upload's rows, <c>sensorId,timestamp,value</c>, into the feed as they arrive, through the same
/// checks as <c>Publish</c>. The timestamp is ISO 8601 (UTC unless it says otherwise) or Unix milliseconds. Line 1 is
/// a header when it has a value column that is not a number. Blank lines are skipped and are not rows.
/// </summary>
internal sealed class CsvProcessor(ReadingIngest ingest, int maxSamples) : IUploadProcessor
{
    private const int MaxQuoted = 64;
    private const int MaxCachedIds = 1_024;
    private readonly LineAssembler _lines = new();
    private readonly List<Row> _parsed = [];
    // A CSV export names a few sensors many times: each id becomes one string, not one per row.
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
    private readonly List<RowRejection> _firstRejections = [];
    private long _rows, _accepted, _rejected;

    /// <summary>
    /// Whether valid rows are published. Off while the processor is rebuilt from bytes already on disk after a
    /// restart: those rows were published when they first arrived.
    /// </summary>
    public bool Publishes { get; set; } = true;

    /// <summary>Whether the uploader may publish to a sensor; a row for any other is rejected. Set by each writer.</summary>
    public Predicate<string> MayPublish { get; set; } = _ => false;

    public async ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        _lines.Feed(chunk.Span, Parse);
        await PublishParsedAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        _lines.Complete(Parse);
        await PublishParsedAsync(cancellationToken).ConfigureAwait(false);
    }

    public UploadResult Summarize(UploadResult result) => result with
    {
        Csv = new CsvSummary { Rows = _rows, Accepted = _accepted, Rejected = _rejected, FirstRejections = [.. _firstRejections] },
    };

    private async ValueTask PublishParsedAsync(CancellationToken cancellationToken)
    {
        // Rows that did not parse wait here with their reason too, so that rejections are reported in line order.
        foreach (var row in _parsed)
        {
            var reason = row.Rejection
                ?? (Publishes
                    ? await ingest.PublishOneAsync(row.SensorId, row.Value, row.Timestamp, MayPublish, cancellationToken).ConfigureAwait(false)
                    : ingest.Check(row.SensorId, row.Value, row.Timestamp));
            if (reason is null)
                _accepted++;
            else
                Reject(row.Line, reason);
        }
        _parsed.Clear();
    }

    private void Parse(ReadOnlySpan<char> line, long number)
    {
        if (line.IsWhiteSpace())
            return;

        Span<Range> ranges = stackalloc Range[4];
        var count = line.Split(ranges, ',');
        if (number == 1 && count >= 3 && !double.TryParse(Field(line, ranges[2]), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return;

        _rows++;
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
        _parsed.Add(new Row(number, IdOf(Field(line, ranges[0])), timestamp, value));
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

    private void Unparsable(long line, string reason) => _parsed.Add(new Row(line, "", default, 0, reason));

    private void Reject(long line, string reason)
    {
        _rejected++;
        if (_firstRejections.Count < maxSamples)
            _firstRejections.Add(new RowRejection { Line = line, Reason = reason });
    }

    private readonly record struct Row(long Line, string SensorId, DateTime Timestamp, double Value, string? Rejection = null);
}
