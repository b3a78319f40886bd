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

    /// <summary>Lines completed so far, which is also the number of the last one.</summary>
    public long Lines { get; private set; }

    /// <summary>Feeds one chunk; <paramref name="onLine"/> gets each line it completes, decoded, with its number.</summary>
    public void Feed(ReadOnlySpan<byte> chunk, LineHandler onLine)
    {
        while (true)
        {
            var newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Carry(chunk);
                return;
            }
            var piece = chunk[..newline];
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
            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Ends the stream: a last line without a newline is completed.</summary>
    public void Complete(LineHandler onLine)
    {
        if (_partialLength == 0)
            return;
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
