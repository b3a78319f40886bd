using SensorHub.Contracts;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// How far a processor got, kept in the upload's record: every line that ends within the first <see cref="Bytes"/>
/// bytes has been handled (a CSV row published or rejected), and the summary counts exactly those lines. A processor
/// made from it goes on at <see cref="Bytes"/> as if it had never stopped, so what lies past it is processed once,
/// and what lies before it is never processed again.
/// </summary>
/// <remarks>
/// The summary is kept rather than worked out again from the bytes, because it cannot be: whether a row was accepted
/// depended on who uploaded it (their sensor prefixes) and on the server's clock when it was handled.
/// </remarks>
internal sealed record ProcessingCheckpoint
{
    /// <summary>Nothing handled yet.</summary>
    public static ProcessingCheckpoint Start { get; } = new();

    /// <summary>The bytes from the start up to the end of the last line handled, its newline included.</summary>
    public long Bytes { get; init; }

    /// <summary>Lines handled, which is also the number of the last one.</summary>
    public long Lines { get; init; }

    /// <summary>A log's summary over the lines handled.</summary>
    public LogSummary? Log { get; init; }

    /// <summary>
    /// A log's reading state after the lines handled (inside an entry, inside a traceback); <see langword="null"/> in a
    /// checkpoint saved before entries were counted.
    /// </summary>
    public LogState? LogState { get; init; }

    /// <summary>A CSV's summary over the lines handled.</summary>
    public CsvSummary? Csv { get; init; }

    /// <summary>
    /// How a CSV is read (its delimiter and layout, decided at its first record) and how far into the next record's
    /// readings it got. <see langword="null"/> in a checkpoint saved before CSV layouts existed: the first record
    /// then decides again (it was the old positional form).
    /// </summary>
    public CsvState? CsvState { get; init; }
}
