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

    /// <summary>At most this many live readings per second, each the newest at its moment. A replay is delivered whole.</summary>
    [Key("maxRate")]
    public double? MaxRate { get; init; }
}
