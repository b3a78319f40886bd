using System.Text;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Cuts a byte stream that arrives in chunks into lines, whatever the chunk boundaries: a line (or a UTF-8 character)
/// split across chunks is carried over and decoded whole. Lines end at <c>\n</c>, with or without <c>\r</c>; the last
/// line needs no newline. A leading UTF-8 byte order mark is skipped.
/// </summary>
/// <remarks>
/// A line is decoded from its first <see cref="MaxLineBytes"/> bytes: a longer line is still counted once, at its
/// newline, but what comes past that is not looked at. That bounds the memory a single line can take.
/// </remarks>
internal sealed class LineAssembler
{
    public const int MaxLineBytes = 64 * 1024;

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private readonly byte[] _partial = new byte[MaxLineBytes];
    private readonly char[] _chars = new char[MaxLineBytes];
    private int _partialLength;
    private long _fed;

    /// <summary>An assembler at the start of a stream.</summary>
    public LineAssembler()
    {
    }

    /// <summary>
    /// An assembler that goes on from a point where <paramref name="lines"/> lines ended after <paramref name="bytes"/>
    /// bytes of the stream (the end of a line, or the start); it is fed what follows.
    /// </summary>
    public LineAssembler(long lines, long bytes)
    {
        Lines = lines;
        LineEnd = bytes;
        _fed = bytes;
    }

    /// <summary>Lines completed so far, which is also the number of the last one.</summary>
    public long Lines { get; private set; }

    /// <summary>
    /// The bytes of the stream up to the end of the last completed line, its newline included: where an assembler
    /// made with <see cref="LineAssembler(long, long)"/> would go on from. Already moved when a line is handed out.
    /// </summary>
    public long LineEnd { get; private set; }

    /// <summary>Feeds one chunk; <paramref name="onLine"/> gets each line it completes, decoded, with its number.</summary>
    public void Feed(ReadOnlySpan<byte> chunk, LineHandler onLine)
    {
        var start = _fed;
        _fed += chunk.Length;
        var consumed = 0;
        while (true)
        {
            var newline = chunk[consumed..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                Carry(chunk[consumed..]);
                return;
            }
            var piece = chunk.Slice(consumed, newline);
            consumed += newline + 1;
            LineEnd = start + consumed;
            if (_partialLength > 0)
            {
                Carry(piece);
                Emit(_partial.AsSpan(0, _partialLength), onLine);
                _partialLength = 0;
            }
            else
            {
                Emit(piece, onLine);
            }
        }
    }

    /// <summary>Ends the stream: a last line without a newline is completed.</summary>
    public void Complete(LineHandler onLine)
    {
        if (_partialLength == 0)
            return;
        LineEnd = _fed;
        Emit(_partial.AsSpan(0, _partialLength), onLine);
        _partialLength = 0;
    }

    private void Carry(ReadOnlySpan<byte> bytes)
    {
        var room = MaxLineBytes - _partialLength;
        bytes = bytes[..Math.Min(room, bytes.Length)];
        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength += bytes.Length;
    }

    private void Emit(ReadOnlySpan<byte> line, LineHandler onLine)
    {
        if (line.Length > MaxLineBytes)
            line = line[..MaxLineBytes];
        if (line.Length > 0 && line[^1] == (byte)'\r')
            line = line[..^1];
        // Looked for in the first line rather than the first chunk, which may hold only part of it.
        if (Lines == 0 && line.StartsWith(Encoding.UTF8.Preamble))
            line = line[Encoding.UTF8.Preamble.Length..];
        Lines++;
        var length = s_utf8.GetChars(line, _chars);
        onLine(_chars.AsSpan(0, length), Lines);
    }
}

/// <summary>Receives one line and its number (from 1). The span is valid only during the call.</summary>
internal delegate void LineHandler(ReadOnlySpan<char> line, long number);
