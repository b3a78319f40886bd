namespace SensorHub.Client;

/// <summary>Why readings are missing from a subscription.</summary>
public enum SequenceGapCause
{
    /// <summary>
    /// At the start of a subscription or when it resumed after a dropped connection, the server's history no longer held
    /// the readings asked for: they are gone for this client.
    /// </summary>
    HistoryExpired,

    /// <summary>
    /// While live, the server dropped the subscriber's oldest unsent readings because its buffer was full (a slow consumer).
    /// Not reported for a subscription with <c>maxRate</c>, which skips readings on purpose.
    /// </summary>
    Dropped,
}

/// <summary>Readings a subscription will never deliver: every sequence from <see cref="FromSequence"/> to <see cref="ToSequence"/>, both included.</summary>
/// <param name="SensorId">The sensor.</param>
/// <param name="FromSequence">The first missing sequence.</param>
/// <param name="ToSequence">The last missing sequence.</param>
/// <param name="Cause">Why they are missing.</param>
public sealed record SequenceGap(string SensorId, long FromSequence, long ToSequence, SequenceGapCause Cause)
{
    /// <summary>How many readings are missing.</summary>
    public long Count => ToSequence - FromSequence + 1;
}

/// <summary>The argument of <see cref="SensorHubClient.GapDetected"/>.</summary>
public sealed class SequenceGapEventArgs : EventArgs
{
    /// <summary>Creates the event's argument.</summary>
    /// <param name="gap">The missing span.</param>
    public SequenceGapEventArgs(SequenceGap gap) => Gap = gap;

    /// <summary>The missing span.</summary>
    public SequenceGap Gap { get; }
}
