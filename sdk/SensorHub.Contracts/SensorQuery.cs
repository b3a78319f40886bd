using MessagePack;

namespace SensorHub.Contracts;

/// <summary>
/// Which sensors <see cref="SensorHubMethods.ListSensors"/> answers with: one page of those whose id starts with
/// <see cref="Prefix"/>, ordered by id (ordinal), after <see cref="After"/>. Pass <see langword="null"/> for the first
/// page of every sensor.
/// </summary>
[MessagePackObject]
public sealed record SensorQuery
{
    /// <summary>The page size when <see cref="Limit"/> is <see langword="null"/>.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The largest <see cref="Limit"/> the server takes.</summary>
    public const int MaxLimit = 1_000;

    /// <summary>
    /// Only sensors whose id starts with this (plain string prefix, as a token's <c>sensors</c> claim): up to
    /// <see cref="SensorId.MaxLength"/> of the characters a sensor id may hold. <see langword="null"/> or empty: every sensor.
    /// </summary>
    [Key("prefix")]
    public string? Prefix { get; init; }

    /// <summary>
    /// Only sensors whose id comes after this one (ordinal order): the <see cref="SensorPage.Next"/> of the page
    /// before. <see langword="null"/>: from the first.
    /// </summary>
    [Key("after")]
    public string? After { get; init; }

    /// <summary>At most this many sensors, from 1 to <see cref="MaxLimit"/>; <see langword="null"/>: <see cref="DefaultLimit"/>.</summary>
    [Key("limit")]
    public int? Limit { get; init; }
}

/// <summary>One page of <see cref="SensorHubMethods.ListSensors"/>.</summary>
[MessagePackObject]
public sealed record SensorPage
{
    /// <summary>The sensors, ordered by id (ordinal), each with its newest reading.</summary>
    [Key("sensors")]
    public SensorInfo[] Sensors { get; init; } = [];

    /// <summary>
    /// Where the next page starts: pass it as <see cref="SensorQuery.After"/> (with the same prefix and limit).
    /// <see langword="null"/> when this page is the last.
    /// </summary>
    [Key("next")]
    public string? Next { get; init; }
}
