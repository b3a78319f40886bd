using System.Buffers;

namespace SensorHub.Server;

/// <summary>The ids the server makes for uploads, sessions and annotations: 32 lowercase hex digits.</summary>
internal static class ServerIds
{
    private static readonly SearchValues<char> s_lowerHex = SearchValues.Create("0123456789abcdef");

    public static string New() => Guid.NewGuid().ToString("N");

    public static bool IsWellFormed(string? id) => IsLowerHex(id, 32);

    /// <summary>Whether <paramref name="text"/> is <paramref name="length"/> lowercase hex digits.</summary>
    public static bool IsLowerHex(string? text, int length) =>
        text is not null && text.Length == length && text.AsSpan().IndexOfAnyExcept(s_lowerHex) < 0;
}
