namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Where a log's reading stands between two lines, beyond what its summary says (the format is the summary's): enough
/// for a processor made from a checkpoint to read the next line as one that never stopped would.
/// </summary>
/// <remarks>
/// A checkpoint saved before entries existed has none: it is read as "an entry above" once a line was handled, since
/// that processor counted every line as one.
/// </remarks>
internal sealed record LogState
{
    /// <summary>Whether an entry has begun above: a continuation line then belongs to it.</summary>
    public bool EntryAbove { get; init; }

    /// <summary>
    /// Whether the lines above end inside a Python traceback, before its exception line: the next unindented line
    /// ends it and belongs to the entry.
    /// </summary>
    public bool InTraceback { get; init; }
}
