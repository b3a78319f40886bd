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

/// <summary>A text log's lines counted by level.</summary>
[MessagePackObject]
public sealed record LogSummary
{
    /// <summary>Lines in all.</summary>
    [Key("lines")]
    public long Lines { get; init; }

    /// <summary>Lines whose first level token is <c>ERROR</c>.</summary>
    [Key("errors")]
    public long Errors { get; init; }

    /// <summary>Lines whose first level token is <c>WARN</c> or <c>WARNING</c>.</summary>
    [Key("warnings")]
    public long Warnings { get; init; }

    /// <summary>Lines whose first level token is <c>INFO</c>.</summary>
    [Key("infos")]
    public long Infos { get; init; }

    /// <summary>Lines with no level token.</summary>
    [Key("other")]
    public long Other { get; init; }

    /// <summary>The first few <c>ERROR</c> lines.</summary>
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
    /// <summary>Rows, not counting a header or blank lines.</summary>
    [Key("rows")]
    public long Rows { get; init; }

    /// <summary>Rows published into the feed.</summary>
    [Key("accepted")]
    public long Accepted { get; init; }

    /// <summary>Rows rejected.</summary>
    [Key("rejected")]
    public long Rejected { get; init; }

    /// <summary>The first few rejections.</summary>
    [Key("firstRejections")]
    public RowRejection[] FirstRejections { get; init; } = [];
}

/// <summary>Why one CSV row was rejected.</summary>
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
}
