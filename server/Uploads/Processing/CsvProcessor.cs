using System.Globalization;
using System.Text;
using nietras.SeparatedValues;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Publishes a CSV upload's readings into the feed as they arrive, through the same checks as <c>Publish</c>. The
/// first record decides the delimiter and the layout (<see cref="CsvLayout"/>): long (a sensor id, a timestamp and a
/// value per row, by header name or in the old positional form) or wide (a timestamp and one column per sensor).
/// Timestamps are read by <see cref="CsvTimestamps"/>. Blank lines are skipped and are not rows.
/// </summary>
/// <remarks>
/// <see cref="CsvRecordCutter"/> finds where records end in the pushed chunks (quote-aware, bounded); the complete
/// records of a chunk go to Sep in one batch, which splits and unquotes their fields. Readings are published one at a
/// time and the checkpoint moves with each: a failure leaves it after the last reading handled (within a wide row too,
/// by <see cref="CsvState.ReadingsDone"/>), so a resume neither loses nor repeats one.
/// </remarks>
internal sealed class CsvProcessor : IUploadProcessor
{
    private const int MaxCachedIds = 1_024;
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private readonly ReadingIngest _ingest;
    private readonly int _maxSamples;
    private readonly UploadMetrics? _metrics;
    private readonly CsvSettings _settings;
    private readonly CsvTimestamps _timestamps;
    private readonly CsvRecordCutter _records;
    // The complete records of the chunk being processed, as text for Sep ('\n' between them), and where each ends.
    private readonly StringBuilder _batch = new();
    private readonly List<PendingRecord> _pending = [];
    private readonly List<Item> _parsed = [];
    // A CSV export names a few sensors many times: each id becomes one string, not one per row.
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
    private readonly List<RowRejection> _firstRejections = [];
    private CsvLayout? _layout;
    private SepReaderOptions _sep;
    // Wide: the sensor id of each column, resolved once from the header (null for the timestamp column and nameless ones).
    private string?[] _wideIds = [];
    private long _rows, _accepted, _rejected;
    // The end of the last record whose readings are all handled, and how many of the next record's readings are:
    // rows are parsed a chunk at a time but published one reading at a time, and a failure in between must not
    // count, nor publish again, the readings before it.
    private long _handledBytes, _handledLines;
    private int _readingsDone;
    // Readings of the first record after a checkpoint that were handled before it was taken.
    private int _skip;

    /// <summary>A processor that goes on from <paramref name="from"/>, or starts at the first byte.</summary>
    /// <param name="ingest">Where readings are checked and published.</param>
    /// <param name="maxSamples">The most rejections the summary names.</param>
    /// <param name="from">The checkpoint to go on from; none: the first byte.</param>
    /// <param name="metrics">Where the readings published are counted; none in tests of the processor alone.</param>
    /// <param name="options">The request's <c>csv</c> options, already checked (<see cref="CsvSettings.TryCreate"/>); none: detection.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> are not valid.</exception>
    public CsvProcessor(ReadingIngest ingest, int maxSamples, ProcessingCheckpoint? from = null, UploadMetrics? metrics = null, CsvOptions? options = null)
    {
        _ingest = ingest;
        _maxSamples = maxSamples;
        _metrics = metrics;
        _settings = CsvSettings.From(options);
        _timestamps = new CsvTimestamps(_settings);
        from ??= ProcessingCheckpoint.Start;
        _records = new CsvRecordCutter(from.Lines, from.Bytes);
        (_handledBytes, _handledLines) = (from.Bytes, from.Lines);
        if (from.Csv is { } csv)
        {
            (_rows, _accepted, _rejected) = (csv.Rows, csv.Accepted, csv.Rejected);
            _firstRejections.AddRange(csv.FirstRejections);
        }
        if (from.CsvState is { } state)
        {
            if (state.Layout is { } layout)
                Use(layout);
            _readingsDone = _skip = state.ReadingsDone;
        }
    }

    public ProcessingCheckpoint Checkpoint => new()
    {
        Bytes = _handledBytes,
        Lines = _handledLines,
        Csv = Summary(),
        CsvState = new CsvState { Layout = _layout, ReadingsDone = _readingsDone },
    };

    public async ValueTask ProcessAsync(ReadOnlyMemory<byte> chunk, Publisher? publisher, CancellationToken cancellationToken)
    {
        _records.Feed(chunk.Span, Collect);
        ParseBatch();
        await PublishParsedAsync(publisher, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask CompleteAsync(Publisher? publisher, CancellationToken cancellationToken)
    {
        _records.Complete(Collect);
        ParseBatch();
        await PublishParsedAsync(publisher, cancellationToken).ConfigureAwait(false);
    }

    public UploadResult Summarize(UploadResult result) => result with { Csv = Summary() };

    private CsvSummary Summary() => new()
    {
        Layout = _layout?.Kind ?? "",
        Delimiter = _layout?.Delimiter ?? "",
        Header = _layout?.Header ?? false,
        Rows = _rows,
        Accepted = _accepted,
        Rejected = _rejected,
        FirstRejections = [.. _firstRejections],
    };

    private void Use(CsvLayout layout)
    {
        _layout = layout;
        _sep = SepOptions(layout.Delimiter[0]);
        if (layout.Kind == CsvLayout.Wide)
        {
            _wideIds = new string?[layout.Columns.Length];
            for (var column = 0; column < _wideIds.Length; column++)
            {
                if (column != layout.TimestampColumn && layout.Columns[column].Length > 0)
                    _wideIds[column] = _settings.SensorPrefix + layout.Columns[column];
            }
        }
    }

    private static SepReaderOptions SepOptions(char delimiter) =>
        Sep.New(delimiter).Reader() with { HasHeader = false, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true };

    /// <summary>Takes one record from the cutter: the first decides the layout; the others wait in the batch for Sep.</summary>
    private void Collect(ReadOnlySpan<byte> record, long firstLine, CsvRecordProblem problem)
    {
        var end = (_records.RecordEnd, _records.Lines);
        var text = s_utf8.GetString(record);
        if (problem != CsvRecordProblem.None)
        {
            var reason = problem == CsvRecordProblem.TooLong
                ? $"the record is {CsvRecordCutter.MaxRecordBytes / 1024} KiB or longer (a quote that never closes?); it is skipped up to the end of its line"
                : "the file ends inside a quoted field (a quote that never closes)";
            _pending.Add(new PendingRecord(firstLine, end.RecordEnd, end.Lines, -1, reason));
            return;
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            _pending.Add(new PendingRecord(firstLine, end.RecordEnd, end.Lines, -1, null));
            return;
        }
        if (_layout is null)
        {
            var delimiter = CsvLayout.DelimiterOf(text, _settings);
            var fields = Split(text, SepOptions(delimiter));
            var layout = CsvLayout.Of(delimiter, fields, _timestamps);
            // Only line 1 can be a header: a file whose first line is blank has none.
            if (layout.Header && firstLine != 1)
                layout = new CsvLayout { Delimiter = layout.Delimiter };
            Use(layout);
            if (layout.Header)
            {
                _pending.Add(new PendingRecord(firstLine, end.RecordEnd, end.Lines, -1, null));
                return;
            }
        }
        _pending.Add(new PendingRecord(firstLine, end.RecordEnd, end.Lines, _batch.Length, null));
        _batch.Append(text).Append('\n');
    }

    private static string[] Split(string record, SepReaderOptions options)
    {
        using var reader = options.FromText(record);
        if (!reader.MoveNext())
            return [];
        var row = reader.Current;
        var fields = new string[row.ColCount];
        for (var i = 0; i < fields.Length; i++)
            fields[i] = row[i].Span.Trim().ToString();
        return fields;
    }

    /// <summary>Splits the batch with Sep and turns each record into the readings (or rejections) it holds, in order.</summary>
    private void ParseBatch()
    {
        if (_pending.Count == 0)
            return;
        var text = _batch.ToString();
        _batch.Clear();
        using var reader = text.Length == 0 ? null : _sep.FromText(text);
        foreach (var record in _pending)
        {
            if (record.Problem is { } problem)
            {
                _parsed.Add(Item.RowRejected(record, problem));
                continue;
            }
            if (record.BatchStart < 0)
            {
                _parsed.Add(Item.Skipped(record));
                continue;
            }
            // The cutter and Sep count quotes alike, so each record is one row of the batch.
            if (reader is null || !reader.MoveNext())
                throw new InvalidOperationException("The CSV library found fewer rows than the record cutter.");
            ParseRow(reader.Current, record);
        }
        _pending.Clear();
    }

    private void ParseRow(SepReader.Row row, PendingRecord record)
    {
        var layout = _layout!;
        if (layout.Refusal is { } refusal)
        {
            _parsed.Add(Item.RowRejected(record, refusal));
            return;
        }
        if (layout.Positional && row.ColCount != 3)
        {
            _parsed.Add(Item.RowRejected(record, $"expected 3 fields (sensorId,timestamp,value), found {(row.ColCount > 3 ? "more than 3" : row.ColCount.ToString(CultureInfo.InvariantCulture))}"));
            return;
        }
        if (layout.Kind == CsvLayout.Wide)
        {
            ParseWideRow(row, record, layout);
            return;
        }
        var needed = Math.Max(layout.SensorColumn, Math.Max(layout.TimestampColumn, layout.ValueColumn)) + 1;
        if (row.ColCount < needed)
        {
            _parsed.Add(Item.RowRejected(record, $"expected at least {needed} fields (the header's sensor id, timestamp and value columns), found {row.ColCount}"));
            return;
        }
        var timestampText = Field(row, layout.TimestampColumn);
        if (_timestamps.Read(timestampText, out var timestampProblem) is not { } timestamp)
        {
            _parsed.Add(Item.RowRejected(record, timestampProblem!));
            return;
        }
        var valueText = Field(row, layout.ValueColumn);
        if (!TryValue(valueText, out var value))
        {
            _parsed.Add(Item.RowRejected(record, $"value '{CsvText.Quote(valueText)}' is not a number"));
            return;
        }
        _parsed.Add(new Item(record, IdOf(Field(row, layout.SensorColumn)), timestamp, value, null, null, EndsRow: true));
    }

    private void ParseWideRow(SepReader.Row row, PendingRecord record, CsvLayout layout)
    {
        if (row.ColCount > _wideIds.Length)
        {
            _parsed.Add(Item.RowRejected(record, $"the row has {row.ColCount} fields, more than the header's {_wideIds.Length} columns"));
            return;
        }
        if (layout.TimestampColumn >= row.ColCount)
        {
            _parsed.Add(Item.RowRejected(record, "the row has no timestamp field"));
            return;
        }
        var timestampText = Field(row, layout.TimestampColumn);
        if (_timestamps.Read(timestampText, out var timestampProblem) is not { } timestamp)
        {
            _parsed.Add(Item.RowRejected(record, timestampProblem!));
            return;
        }
        var first = _parsed.Count;
        // One pass over the row's fields; the ids were resolved from the header once, so a wide row costs its cells.
        for (var column = 0; column < row.ColCount; column++)
        {
            if (_wideIds[column] is not { } sensorId)
                continue;
            var cell = Field(row, column);
            if (cell.IsEmpty)
                continue;
            _parsed.Add(TryValue(cell, out var value)
                ? new Item(record, sensorId, timestamp, value, null, layout.Columns[column], EndsRow: false)
                : new Item(record, sensorId, default, 0, $"value '{CsvText.Quote(cell)}' is not a number", layout.Columns[column], EndsRow: false));
        }
        if (_parsed.Count == first)
            _parsed.Add(Item.Skipped(record) with { CountsAsRow = true });
        else
            _parsed[^1] = _parsed[^1] with { EndsRow = true };
    }

    private static ReadOnlySpan<char> Field(SepReader.Row row, int column) => row[column].Span.Trim();

    /// <summary>A number in the invariant culture; with <c>;</c> as the delimiter, also with a decimal comma (<c>1,5</c>).</summary>
    private bool TryValue(ReadOnlySpan<char> text, out double value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            return true;
        if (_layout!.Delimiter != ";" || text.Count(',') != 1 || text.Contains('.'))
            return false;
        Span<char> dotted = stackalloc char[Math.Min(text.Length, 128)];
        if (text.Length > dotted.Length)
            return false;
        text.CopyTo(dotted);
        dotted[dotted.IndexOf(',')] = '.';
        return double.TryParse(dotted, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private string IdOf(ReadOnlySpan<char> field)
    {
        var cached = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        if (cached.TryGetValue(field, out var id))
            return id;
        var key = field.ToString();
        id = _settings.SensorPrefix.Length == 0 ? key : _settings.SensorPrefix + key;
        if (_ids.Count < MaxCachedIds)
            _ids[key] = id;
        return id;
    }

    private async ValueTask PublishParsedAsync(Publisher? publisher, CancellationToken cancellationToken)
    {
        // Rows that did not parse wait here with their reason too, so that rejections are reported in line order.
        var acceptedBefore = _accepted;
        try
        {
            foreach (var item in _parsed)
            {
                if (item.HasReading && _skip > 0)
                {
                    // Handled before the checkpoint this processor was made from.
                    _skip--;
                }
                else if (item.HasReading || item.Rejection is not null)
                {
                    var rejection = await RejectionOfAsync(item, publisher, cancellationToken).ConfigureAwait(false);
                    if (rejection is { } rejected)
                        Reject(item, rejected);
                    else
                        _accepted++;
                }
                if (item.EndsRow)
                {
                    if (item.CountsAsRow)
                        _rows++;
                    (_handledBytes, _handledLines, _readingsDone) = (item.Record.End, item.Record.LinesAtEnd, 0);
                }
                else if (item.HasReading)
                {
                    _readingsDone++;
                }
            }
        }
        finally
        {
            // Once per batch, not per reading; also for those published before a failure. Without a publisher the
            // readings were only looked at again, not published.
            if (publisher is not null)
                _metrics?.CsvReadingsPublished(_accepted - acceptedBefore);
        }
        _parsed.Clear();
        (_handledBytes, _handledLines) = (_records.RecordEnd, _records.Lines);
    }

    /// <summary>
    /// Why a reading is rejected, or <see langword="null"/> once it is published. Without a publisher nothing is
    /// published and nothing counted as a refusal: the reading is only looked at.
    /// </summary>
    private ValueTask<ItemRejection?> RejectionOfAsync(Item item, Publisher? publisher, CancellationToken cancellationToken)
    {
        if (item.Rejection is { } unparsable)
        {
            return ValueTask.FromResult<ItemRejection?>(
                publisher is null ? new ItemRejection(SensorHubErrors.InvalidArgument, unparsable) : _ingest.Reject(SensorHubErrors.InvalidArgument, unparsable));
        }
        if (publisher is not null)
            return _ingest.PublishOneAsync(item.SensorId, item.Value, item.Timestamp, publisher, cancellationToken);
        return ValueTask.FromResult<ItemRejection?>(
            _ingest.Check(item.SensorId, item.Value, item.Timestamp) is { } problem ? new ItemRejection(SensorHubErrors.InvalidArgument, problem) : null);
    }

    private void Reject(Item item, ItemRejection rejection)
    {
        _rejected++;
        if (_firstRejections.Count < _maxSamples)
            _firstRejections.Add(new RowRejection { Line = item.Record.FirstLine, Code = rejection.Code, Reason = rejection.Reason, Column = item.Column });
    }

    /// <summary>
    /// A record the cutter completed, from its first line, ending after <paramref name="End"/> bytes and
    /// <paramref name="LinesAtEnd"/> lines; where it starts in the batch (-1: not in it: blank, a header, or
    /// <paramref name="Problem"/>).
    /// </summary>
    private readonly record struct PendingRecord(long FirstLine, long End, long LinesAtEnd, int BatchStart, string? Problem);

    /// <summary>
    /// One reading of a record, or the record's rejection as a whole, or nothing (a blank line, a header, a wide row
    /// without readings). <paramref name="Column"/> is a wide cell's header name, kept on every rejection of the cell
    /// (its value, or any of the ingest's checks); <see langword="null"/> in a long file and for a whole row.
    /// <paramref name="EndsRow"/> marks the last item of its record.
    /// </summary>
    private readonly record struct Item(PendingRecord Record, string? SensorId, DateTime Timestamp, double Value, string? Rejection, string? Column, bool EndsRow)
    {
        public bool CountsAsRow { get; init; } = true;

        public bool HasReading => SensorId is not null;

        public static Item RowRejected(PendingRecord record, string reason) => new(record, null, default, 0, reason, null, EndsRow: true);

        public static Item Skipped(PendingRecord record) => new(record, null, default, 0, null, null, EndsRow: true) { CountsAsRow = false };
    }
}
