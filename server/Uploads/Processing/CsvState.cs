namespace SensorHub.Server.Uploads.Processing;

/// <summary>The CSV part of a <see cref="ProcessingCheckpoint"/>, kept in the upload's record as JSON.</summary>
internal sealed record CsvState
{
    /// <summary>The layout decided from the first record; <see langword="null"/> before it.</summary>
    public CsvLayout? Layout { get; init; }

    /// <summary>
    /// Readings of the record that starts at the checkpoint's <see cref="ProcessingCheckpoint.Bytes"/> already handled
    /// (and counted in the summary): a wide row publishes one reading per cell, and a failure between two of them must
    /// not publish the first again.
    /// </summary>
    public int ReadingsDone { get; init; }
}
