namespace SensorHub.Client;

/// <summary>Why readings are missing from a subscription.</summary>
public enum SequenceGapCause
{
    /// <summary>
    /// At the start of a subscription or when it resumed after a dropped connection, the server's history no longer held
    /// the readings asked for: they are gone for this client. <see cref="SequenceGap.Count"/> is exact.
    /// </summary>
    HistoryExpired,

    /// <summary>
    /// While live, the server dropped the subscriber's oldest unsent readings because its buffer was full (a slow
    /// consumer) and its history no longer held them. <see cref="SequenceGap.Count"/> is exact. Not reported for a
    /// subscription with <c>maxRate</c>, which skips readings on purpose.
    /// </summary>
    Dropped,

    /// <summary>
    /// The server restarted, or had lost the sensor, between the last reading delivered and the next: the server ended
    /// the stream (it does that only when it stops), answered the resume with <c>unknown_sensor</c>, or (after a crash)
    /// its <see cref="Contracts.SensorInfo.FirstSequence"/> for the sensor is above the first missing sequence. A restarted
    /// server numbers a sensor's readings afresh, above all it issued before (the in-memory engine starts from its
    /// clock in microseconds), so the span from <see cref="SequenceGap.FromSequence"/> to
    /// <see cref="SequenceGap.ToSequence"/> is a jump between two numberings, not a count of readings:
    /// <see cref="SequenceGap.Count"/> is <see langword="null"/>. Readings the old server had published but not sent,
    /// if any, are lost.
    /// </summary>
    ServerRestart,
}

/// <summary>
/// Readings a subscription will never deliver: every sequence from <see cref="FromSequence"/> to
/// <see cref="ToSequence"/>, both included, or, for <see cref="SequenceGapCause.ServerRestart"/>, a jump of unknown size.
/// </summary>
/// <param name="SensorId">The sensor.</param>
/// <param name="FromSequence">The first missing sequence: the one after the last delivered (or the <c>fromSequence</c> asked for).</param>
/// <param name="ToSequence">The last missing sequence: the one before the reading delivered next.</param>
/// <param name="Cause">Why they are missing.</param>
public sealed record SequenceGap(string SensorId, long FromSequence, long ToSequence, SequenceGapCause Cause)
{
    /// <summary>
    /// How many readings are missing: exactly <c>ToSequence - FromSequence + 1</c> for
    /// <see cref="SequenceGapCause.HistoryExpired"/> and <see cref="SequenceGapCause.Dropped"/>, which happen within one
    /// server's numbering; <see langword="null"/> for <see cref="SequenceGapCause.ServerRestart"/>, whose span is not a
    /// count of readings.
    /// </summary>
    public long? Count => Cause == SequenceGapCause.ServerRestart ? null : ToSequence - FromSequence + 1;
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
