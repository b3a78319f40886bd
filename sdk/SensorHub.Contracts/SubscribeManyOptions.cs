using MessagePack;

namespace SensorHub.Contracts;

/// <summary>How a <c>SubscribeMany</c> stream paces and where it resumes. Pass <see langword="null"/> for neither.</summary>
[MessagePackObject]
public sealed record SubscribeManyOptions
{
    /// <summary>
    /// At most this many live readings per second <em>per sensor</em>, each the newest of its sensor at its moment, from
    /// <see cref="SubscribeOptions.MaxRateMinimum"/> to <see cref="SubscribeOptions.MaxRateMaximum"/>; another value is
    /// refused with <c>invalid_argument</c>. <see langword="null"/>: every reading.
    /// </summary>
    [Key("maxRate")]
    public double? MaxRate { get; init; }

    /// <summary>
    /// Resume these sensors from these sequences (replay what history holds, then live, with the seam of
    /// <c>Subscribe</c>'s <see cref="SubscribeOptions.FromSequence"/>); every other matching sensor starts live. Ids the
    /// pattern does not match, or the caller may not read, are ignored. At most <see cref="MaxFromSequences"/> entries;
    /// each sequence 0 or more.
    /// </summary>
    [Key("fromSequences")]
    public IReadOnlyDictionary<string, long>? FromSequences { get; init; }

    /// <summary>The most entries <see cref="FromSequences"/> may have: 10,000, the server's default sensor cap.</summary>
    public const int MaxFromSequences = 10_000;
}
