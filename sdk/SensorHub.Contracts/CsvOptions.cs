using MessagePack;

namespace SensorHub.Contracts;

/// <summary>
/// How a <c>text/csv</c> upload is read, where detection from its header would guess wrong. Every field is optional:
/// <see langword="null"/> leaves it to detection (see the README's "CSV uploads"). Refused with
/// <c>invalid_argument</c> by <see cref="SensorHubMethods.BeginUpload"/> when a field is not one of the values below,
/// or when the upload is not <c>text/csv</c>.
/// </summary>
[MessagePackObject]
public sealed record CsvOptions
{
    /// <summary>
    /// The field delimiter, one character: <c>,</c>, <c>;</c>, <c>\t</c> (tab) or <c>|</c>. <see langword="null"/>:
    /// detected from the first line among <c>,</c>, <c>;</c> and tab. With <c>;</c> a decimal comma is accepted in
    /// values (<c>1,5</c>).
    /// </summary>
    [Key("delimiter")]
    public string? Delimiter { get; init; }

    /// <summary>
    /// Put before every sensor id the file names (a wide file's column names, a long file's sensor id column), as is:
    /// <c>plant-9/</c> and a column <c>temp</c> give <c>plant-9/temp</c>. The result must still be a valid sensor id.
    /// <see langword="null"/>: none.
    /// </summary>
    [Key("sensorPrefix")]
    public string? SensorPrefix { get; init; }

    /// <summary>
    /// The IANA time zone (<c>Europe/Berlin</c>) of timestamps that carry no offset: ISO 8601 local date-times and
    /// those read with <see cref="TimestampFormat"/>. <see langword="null"/>: UTC.
    /// </summary>
    [Key("timeZone")]
    public string? TimeZone { get; init; }

    /// <summary>
    /// How timestamps are written: <c>iso8601</c>, <c>unixSeconds</c>, <c>unixMilliseconds</c>, or a .NET custom
    /// date-and-time format such as <c>dd.MM.yyyy HH:mm:ss</c> (read with the invariant culture, in
    /// <see cref="TimeZone"/>). <see langword="null"/>: detected per value (ISO 8601, or a Unix time told apart by
    /// magnitude; see the README).
    /// </summary>
    [Key("timestampFormat")]
    public string? TimestampFormat { get; init; }
}
