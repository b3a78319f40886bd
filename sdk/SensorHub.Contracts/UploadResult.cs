using MessagePack;

namespace SensorHub.Contracts;

/// <summary>What an <see cref="SensorHubMethods.Upload"/> stream achieved when it ended.</summary>
[MessagePackObject]
public sealed record UploadResult
{
    /// <summary>The upload's id.</summary>
    [Key("uploadId")]
    public string UploadId { get; init; } = "";

    /// <summary>The whole upload's received bytes so far.</summary>
    [Key("bytes")]
    public long Bytes { get; init; }

    /// <summary>The whole file's SHA-256 in lowercase hex, once complete.</summary>
    [Key("sha256")]
    public string? Sha256 { get; init; }

    /// <summary>Whether the upload is complete.</summary>
    [Key("complete")]
    public bool Complete { get; init; }

    /// <summary>For a <c>text/plain</c> upload: its lines by level, over everything received so far.</summary>
    [Key("log")]
    public LogSummary? Log { get; init; }

    /// <summary>For a <c>text/csv</c> upload: its rows, over everything received so far.</summary>
    [Key("csv")]
    public CsvSummary? Csv { get; init; }
}

/// <summary>
/// A text log's entries counted by level. An entry is a line with its continuation lines (indented lines, stack
/// traces), counted once at its first line's level; the formats recognised are listed in the README's "Log uploads".
/// <see cref="Errors"/> + <see cref="Warnings"/> + <see cref="Infos"/> + <see cref="Debug"/> + <see cref="Other"/> =
/// <see cref="Entries"/>.
/// </summary>
[MessagePackObject]
public sealed record LogSummary
{
    /// <summary>Physical lines in all, blank and continuation lines included.</summary>
    [Key("lines")]
    public long Lines { get; init; }

    /// <summary>Entries in all: lines that are neither blank nor a continuation of the entry above.</summary>
    [Key("entries")]
    public long Entries { get; init; }

    /// <summary>Entries at error level or worse (error, critical, fatal, alert, emergency).</summary>
    [Key("errors")]
    public long Errors { get; init; }

    /// <summary>Entries at warning level.</summary>
    [Key("warnings")]
    public long Warnings { get; init; }

    /// <summary>Entries at information level (notice included).</summary>
    [Key("infos")]
    public long Infos { get; init; }

    /// <summary>Entries at debug or trace level.</summary>
    [Key("debug")]
    public long Debug { get; init; }

    /// <summary>Entries with no level the server recognises.</summary>
    [Key("other")]
    public long Other { get; init; }

    /// <summary>
    /// The format the file was recognised in from its first lines (for instance <c>aspnetcore</c>, <c>serilog</c>,
    /// <c>json</c>; the README lists them), or empty while none is recognised. Lines of another format are still
    /// counted by the general rule.
    /// </summary>
    [Key("format")]
    public string Format { get; init; } = "";

    /// <summary>The first line of each of the first few error entries.</summary>
    [Key("firstErrors")]
    public LineSample[] FirstErrors { get; init; } = [];
}

/// <summary>One line of an upload.</summary>
[MessagePackObject]
public sealed record LineSample
{
    /// <summary>Its line number, counting from 1.</summary>
    [Key("line")]
    public long Line { get; init; }

    /// <summary>Its text (at most 1,000 characters of it).</summary>
    [Key("text")]
    public string Text { get; init; } = "";
}

/// <summary>A CSV upload's rows.</summary>
[MessagePackObject]
public sealed record CsvSummary
{
    /// <summary>
    /// How the file was read: <c>long</c> (a sensor id, a timestamp and a value per row) or <c>wide</c> (a timestamp
    /// and one column per sensor), or empty before its first line.
    /// </summary>
    [Key("layout")]
    public string Layout { get; init; } = "";

    /// <summary>The field delimiter used: <c>,</c>, <c>;</c>, <c>\t</c> or <c>|</c>; empty before the first line.</summary>
    [Key("delimiter")]
    public string Delimiter { get; init; } = "";

    /// <summary>Whether line 1 was read as a header (which then is not a row).</summary>
    [Key("header")]
    public bool Header { get; init; }

    /// <summary>
    /// Rows, not counting a header or blank lines. A wide row is one row, however many readings it holds; its
    /// readings are counted in <see cref="Accepted"/> and <see cref="Rejected"/>.
    /// </summary>
    [Key("rows")]
    public long Rows { get; init; }

    /// <summary>Readings published into the feed: one per long row, one per non-empty cell of a wide row.</summary>
    [Key("accepted")]
    public long Accepted { get; init; }

    /// <summary>
    /// Readings rejected, counted as <see cref="Accepted"/> is; a row that does not parse at all counts one.
    /// </summary>
    [Key("rejected")]
    public long Rejected { get; init; }

    /// <summary>The first few rejections.</summary>
    [Key("firstRejections")]
    public RowRejection[] FirstRejections { get; init; } = [];
}

/// <summary>Why one CSV row, or one cell of a wide row, was rejected.</summary>
[MessagePackObject]
public sealed record RowRejection
{
    /// <summary>Its line number, counting from 1.</summary>
    [Key("line")]
    public long Line { get; init; }

    /// <summary>
    /// Why, for machines: a <see cref="SensorHubErrors"/> code, as <see cref="PublishRejection.Code"/> (a row that does
    /// not parse is <c>invalid_argument</c>). Empty in a summary saved before rejections carried codes.
    /// </summary>
    [Key("code")]
    public string Code { get; init; } = "";

    /// <summary>What was wrong with it, for people.</summary>
    [Key("reason")]
    public string Reason { get; init; } = "";

    /// <summary>
    /// In a wide file, the header name of the column whose cell was rejected (one rejection per cell);
    /// <see langword="null"/> when the whole row was.
    /// </summary>
    [Key("column")]
    public string? Column { get; init; }
}
