namespace SensorHub.Server.Uploads.Processing;

/// <summary>How a CSV processor shows a piece of the file in a rejection.</summary>
internal static class CsvText
{
    private const int MaxQuoted = 64;

    /// <summary>At most 64 characters of <paramref name="text"/>, with "…" when cut.</summary>
    public static string Quote(ReadOnlySpan<char> text) =>
        text.Length <= MaxQuoted ? text.ToString() : string.Concat(text[..MaxQuoted], "…");
}
