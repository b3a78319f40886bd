using System.Globalization;

namespace SensorHub.Tests.Infrastructure;

/// <summary>The server answered a WebSocket upgrade to the hub with <see cref="StatusCode"/> instead of 101.</summary>
public sealed class HubConnectionRefusedException(int statusCode, string message) : InvalidOperationException(message)
{
    public int StatusCode { get; } = statusCode;

    /// <summary>The three-digit status right after <paramref name="marker"/> in <paramref name="text"/>, if there is one.</summary>
    internal static int? StatusIn(string text, string marker)
    {
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || at + marker.Length + 3 > text.Length)
            return null;
        return int.TryParse(text.AsSpan(at + marker.Length, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status) ? status : null;
    }
}
