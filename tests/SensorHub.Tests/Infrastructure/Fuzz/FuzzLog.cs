using System.Text;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>Short, printable views of what went over the wire, for the reproduction a failure prints.</summary>
internal static class FuzzLog
{
    private const int MaxPreview = 240;

    /// <summary>JSON as text (control characters escaped), MessagePack as hex; long frames cut, with their length.</summary>
    public static string Preview(Protocol protocol, ReadOnlySpan<byte> frame)
    {
        var shown = frame[..Math.Min(frame.Length, MaxPreview)];
        var text = protocol == Protocol.Json ? Printable(Encoding.UTF8.GetString(shown)) : Convert.ToHexStringLower(shown);
        return frame.Length > MaxPreview ? $"{text}... ({frame.Length} bytes)" : text;
    }

    private static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsControl(c))
                builder.Append(c == '\u001e' ? "<RS>" : $"\\u{(int)c:x4}");
            else
                builder.Append(c);
        }
        return builder.ToString();
    }
}
