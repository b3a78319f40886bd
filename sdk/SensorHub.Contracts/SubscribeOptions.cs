using MessagePack;

namespace SensorHub.Contracts;

/// <summary>How a subscription starts and how fast it may deliver. Pass <see langword="null"/> for neither.</summary>
[MessagePackObject]
public sealed record SubscribeOptions
{
    /// <summary>
    /// Replay what history still holds from this sequence on before going live, with no gap and no duplicate at the seam.
    /// 0, or a sequence history no longer reaches, starts at the oldest reading kept; one past the newest waits for it live.
    /// </summary>
    [Key("fromSequence")]
    public long? FromSequence { get; init; }

    /// <summary>The smallest <see cref="MaxRate"/> the server takes: one reading every 1,000 s.</summary>
    public const double MaxRateMinimum = 0.001;

    /// <summary>The largest <see cref="MaxRate"/> the server takes: a million readings a second.</summary>
    public const double MaxRateMaximum = 1_000_000;

    /// <summary>
    /// At most this many live readings per second, each the newest at its moment, from <see cref="MaxRateMinimum"/> to
    /// <see cref="MaxRateMaximum"/>; another value is refused with <c>invalid_argument</c>. Readings that history held
    /// when the subscription attached (a <see cref="FromSequence"/> replay) are delivered whole and unpaced; everything
    /// newer is live and paced.
    /// </summary>
    [Key("maxRate")]
    public double? MaxRate { get; init; }
}
