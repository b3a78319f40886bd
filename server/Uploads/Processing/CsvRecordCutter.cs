using System.Text;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Cuts a CSV byte stream that arrives in chunks into records, whatever the chunk boundaries: a record ends at a
/// <c>\n</c> outside quotes (RFC 4180: a quoted field may hold the delimiter, <c>""</c> and line breaks), so a record
/// may span lines. A record (or a UTF-8 character) split across chunks is carried over. A leading UTF-8 byte order
/// mark is dropped. The parsing of fields is left to the CSV library; this only finds where records end, so that the
/// processor can checkpoint at a record's end and carry at most one partial record.
/// </summary>
/// <remarks>
/// Quotes are counted as the library (Sep) counts them: every <c>"</c> toggles "inside quotes", wherever it stands,
/// so both agree on where a record ends. A record is carried up to <see cref="MaxRecordBytes"/>: one that grows past
/// it (an unterminated quote, most likely) is handed out as too long, and the cutter stops honouring quotes until the
/// next line break, where it starts afresh. An unterminated quote therefore costs one record of up to 64 KiB and the
/// rest of its line, never the rest of the file.
/// </remarks>
internal sealed class CsvRecordCutter
{
    public const int MaxRecordBytes = 64 * 1024;

    private readonly byte[] _partial = new byte[MaxRecordBytes];
    private int _partialLength;
    // The bytes of the record being carried seen so far (only the first MaxRecordBytes of them are kept).
    private long _recordBytes;
    private bool _inQuotes;
    private bool _tooLong;
    private long _fed;
    // Lines (newlines seen) inside the record being carried, before its end.
    private long _linesInRecord;

    /// <summary>A cutter at the start of a stream.</summary>
    public CsvRecordCutter()
    {
    }

    /// <summary>A cutter going on from the end of a record: <paramref name="lines"/> lines ended within the first <paramref name="bytes"/> bytes.</summary>
    public CsvRecordCutter(long lines, long bytes)
    {
        Lines = lines;
        RecordEnd = bytes;
        _fed = bytes;
    }

    /// <summary>The lines in the records completed so far, which is also the number of the last line of the last one.</summary>
    public long Lines { get; private set; }

    /// <summary>The bytes up to the end of the last completed record, its newline included; already moved when a record is handed out.</summary>
    public long RecordEnd { get; private set; }

    /// <summary>Feeds one chunk; <paramref name="onRecord"/> gets each record it completes.</summary>
    public void Feed(ReadOnlySpan<byte> chunk, CsvRecordHandler onRecord)
    {
        var start = _fed;
        _fed += chunk.Length;
        var from = 0;
        var i = 0;
        while (i < chunk.Length)
        {
            // Only quotes and newlines matter: jump to the next of either.
            var next = chunk[i..].IndexOfAny((byte)'"', (byte)'\n');
            if (next < 0)
                break;
            i += next;
            // Decided by the offset in the record alone, so that it is the same whatever the chunks.
            if (!_tooLong && _recordBytes + (i - from) >= MaxRecordBytes)
            {
                _tooLong = true;
                _inQuotes = false;
            }
            if (chunk[i] == (byte)'"')
            {
                if (!_tooLong)
                    _inQuotes = !_inQuotes;
                i++;
                continue;
            }
            i++;
            if (_inQuotes)
            {
                _linesInRecord++;
                continue;
            }
            // A record ends here, at chunk[i - 1].
            var piece = chunk[from..(i - 1)];
            from = i;
            var firstLine = Lines + 1;
            Lines += _linesInRecord + 1;
            RecordEnd = start + i;
            if (_recordBytes > 0)
            {
                Carry(piece);
                Emit(_partial.AsSpan(0, _partialLength), firstLine, onRecord);
            }
            else
            {
                Emit(piece[..Math.Min(piece.Length, MaxRecordBytes)], firstLine, onRecord);
            }
        }
        Carry(chunk[from..]);
    }

    /// <summary>Ends the stream: a last record without a newline is completed (also one whose quote never closed).</summary>
    public void Complete(CsvRecordHandler onRecord)
    {
        if (_recordBytes == 0)
            return;
        if (_recordBytes >= MaxRecordBytes)
            _tooLong = true;
        var firstLine = Lines + 1;
        Lines += _linesInRecord + 1;
        RecordEnd = _fed;
        Emit(_partial.AsSpan(0, _partialLength), firstLine, onRecord);
    }

    /// <summary>Keeps the start of a record that goes on in the next chunk, up to the bound.</summary>
    private void Carry(ReadOnlySpan<byte> bytes)
    {
        _recordBytes += bytes.Length;
        var room = MaxRecordBytes - _partialLength;
        bytes = bytes[..Math.Min(room, bytes.Length)];
        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength += bytes.Length;
    }

    private void Emit(ReadOnlySpan<byte> record, long firstLine, CsvRecordHandler onRecord)
    {
        var problem = _tooLong ? CsvRecordProblem.TooLong : _inQuotes ? CsvRecordProblem.UnterminatedQuote : CsvRecordProblem.None;
        if (problem != CsvRecordProblem.TooLong && record.Length > 0 && record[^1] == (byte)'\r')
            record = record[..^1];
        if (firstLine == 1 && record.StartsWith(Encoding.UTF8.Preamble))
            record = record[Encoding.UTF8.Preamble.Length..];
        onRecord(record, firstLine, problem);
        _partialLength = 0;
        _recordBytes = 0;
        _linesInRecord = 0;
        _tooLong = false;
        _inQuotes = false;
    }
}

/// <summary>What is wrong with a record as a whole.</summary>
internal enum CsvRecordProblem
{
    None,
    /// <summary>Longer than <see cref="CsvRecordCutter.MaxRecordBytes"/>; only its start is handed out.</summary>
    TooLong,
    /// <summary>The file ended inside a quoted field.</summary>
    UnterminatedQuote,
}

/// <summary>
/// Receives one record's bytes (without its line break) and the number of its first line; the span is valid only
/// during the call. <see cref="CsvRecordCutter.RecordEnd"/> and <see cref="CsvRecordCutter.Lines"/> are already at its end.
/// </summary>
internal delegate void CsvRecordHandler(ReadOnlySpan<byte> record, long firstLine, CsvRecordProblem problem);
