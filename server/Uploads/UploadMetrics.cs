using System.Diagnostics.Metrics;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Uploads;

/// <summary>
/// The uploads' instruments on the <see cref="SensorHubTelemetry.MeterName"/> meter. Each is a plain counter: a chunk,
/// an upload's end and a batch of CSV rows are rare next to readings, so a call per event costs nothing that matters.
/// </summary>
internal sealed class UploadMetrics
{
    /// <summary>Bytes of upload chunks written to disk (unit <c>By</c>), added once per chunk.</summary>
    public const string BytesReceivedInstrument = "sensorhub.upload.bytes.received";

    /// <summary>Uploads that became complete (unit <c>{upload}</c>).</summary>
    public const string CompletedInstrument = "sensorhub.uploads.completed";

    /// <summary>
    /// <c>Upload</c> calls (appends) that ended with an error (unit <c>{upload}</c>), tagged <c>error.type</c> with its
    /// code; a cancel by the caller is not one (what was written stays, and the upload resumes there).
    /// </summary>
    public const string FailedInstrument = "sensorhub.uploads.failed";

    /// <summary>
    /// Readings of CSV uploads published into the feeds (unit <c>{reading}</c>): one per long row, one per non-empty
    /// cell of a wide row; added once per batch. It replaced <c>sensorhub.csv.rows.published</c> when wide files made
    /// readings and rows differ (issue 17).
    /// </summary>
    public const string CsvReadingsPublishedInstrument = "sensorhub.csv.readings.published";

    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _csvReadingsPublished;

    public UploadMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _bytesReceived = meter.CreateCounter<long>(BytesReceivedInstrument, "By", "Bytes of upload chunks written to disk.");
        _completed = meter.CreateCounter<long>(CompletedInstrument, "{upload}", "Uploads that became complete.");
        _failed = meter.CreateCounter<long>(FailedInstrument, "{upload}", "Upload calls (appends) that ended with an error, by error code.");
        _csvReadingsPublished = meter.CreateCounter<long>(CsvReadingsPublishedInstrument, "{reading}", "Readings of CSV uploads published into the feeds.");
    }

    /// <summary>A chunk of <paramref name="bytes"/> is on disk.</summary>
    public void ChunkWritten(int bytes) => _bytesReceived.Add(bytes);

    /// <summary>An upload became complete.</summary>
    public void Completed() => _completed.Add(1);

    /// <summary>An <c>Upload</c> call ended with <paramref name="errorType"/>: a <see cref="Contracts.SensorHubErrors"/> code, or an exception's type.</summary>
    public void Failed(string errorType) => _failed.Add(1, new KeyValuePair<string, object?>(SensorHubTelemetry.ErrorType, errorType));

    /// <summary><paramref name="readings"/> readings of a CSV upload were published (nothing is recorded for none).</summary>
    public void CsvReadingsPublished(long readings)
    {
        if (readings > 0)
            _csvReadingsPublished.Add(readings);
    }
}
