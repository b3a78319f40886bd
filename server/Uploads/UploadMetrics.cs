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

    /// <summary>CSV rows published into the feeds (unit <c>{row}</c>), added once per batch of rows.</summary>
    public const string CsvRowsPublishedInstrument = "sensorhub.csv.rows.published";

    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _csvRowsPublished;

    public UploadMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _bytesReceived = meter.CreateCounter<long>(BytesReceivedInstrument, "By", "Bytes of upload chunks written to disk.");
        _completed = meter.CreateCounter<long>(CompletedInstrument, "{upload}", "Uploads that became complete.");
        _failed = meter.CreateCounter<long>(FailedInstrument, "{upload}", "Upload calls (appends) that ended with an error, by error code.");
        _csvRowsPublished = meter.CreateCounter<long>(CsvRowsPublishedInstrument, "{row}", "CSV upload rows published into the feeds.");
    }

    /// <summary>A chunk of <paramref name="bytes"/> is on disk.</summary>
    public void ChunkWritten(int bytes) => _bytesReceived.Add(bytes);

    /// <summary>An upload became complete.</summary>
    public void Completed() => _completed.Add(1);

    /// <summary>An <c>Upload</c> call ended with <paramref name="errorType"/>: a <see cref="Contracts.SensorHubErrors"/> code, or an exception's type.</summary>
    public void Failed(string errorType) => _failed.Add(1, new KeyValuePair<string, object?>(SensorHubTelemetry.ErrorType, errorType));

    /// <summary><paramref name="rows"/> CSV rows were published (nothing is recorded for none).</summary>
    public void CsvRowsPublished(long rows)
    {
        if (rows > 0)
            _csvRowsPublished.Add(rows);
    }
}
