using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Telemetry;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// The uploads' instruments, recorded on the app's own meter factory (other tests' servers run in parallel under the
/// same meter name) while the test sends uploads it chose: one measurement per chunk, per completion, per failed
/// call with its code, and per batch of CSV rows.
/// </summary>
public sealed class UploadMetricsTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    private const Protocol Json = Protocol.Json;

    private SensorHubApplication App => apps[Transport.TestServer];

    [Fact]
    public async Task ChunksCompletionAndCsvRowsAreCountedWithTheirUnits()
    {
        var sensorId = Sensors.NewId();
        var csv = new StringBuilder("sensorId,timestamp,value\n");
        for (var i = 0; i < 7; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{sensorId},2026-01-01T00:00:0{i}Z,{i}\n");
        csv.Append("not,a,row\n");
        var data = Encoding.UTF8.GetBytes(csv.ToString());
        var chunkSize = (data.Length / 3) + 1;
        var factory = App.Services.GetRequiredService<IMeterFactory>();
        using var bytes = Collector<long>(factory, UploadMetrics.BytesReceivedInstrument);
        using var completed = Collector<long>(factory, UploadMetrics.CompletedInstrument);
        using var readings = Collector<long>(factory, UploadMetrics.CsvReadingsPublishedInstrument);
        using var failed = Collector<long>(factory, UploadMetrics.FailedInstrument);

        await using var connection = await App.ConnectAsync(Json);
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "r.csv", ContentType = "text/csv", TotalBytes = data.Length });
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, chunkSize)).WaitAsync(Timeouts.Default);

        Assert.True(result.Complete);
        Assert.Equal(7, result.Csv!.Accepted);
        Assert.Equal("By", bytes.Instrument!.Unit);
        Assert.Equal(data.Chunk(chunkSize).Select(c => (long)c.Length), bytes.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal("{upload}", completed.Instrument!.Unit);
        Assert.Equal([1L], completed.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal("{reading}", readings.Instrument!.Unit);
        // Added per batch (so fewer measurements than rows), and only the rows published: the bad one is a rejection.
        var batches = readings.GetMeasurementSnapshot();
        Assert.Equal(7, batches.Sum(m => m.Value));
        Assert.True(batches.Count < 7, $"{batches.Count} measurements for 7 rows: the counter is added once per batch");
        Assert.All(batches, m => Assert.Empty(m.Tags));
        Assert.Empty(failed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task AFailedUploadCallIsCountedWithItsCode()
    {
        var factory = App.Services.GetRequiredService<IMeterFactory>();
        using var failed = Collector<long>(factory, UploadMetrics.FailedInstrument);
        using var completed = Collector<long>(factory, UploadMetrics.CompletedInstrument);
        await using var connection = await App.ConnectAsync(Json);
        var data = UploadStreams.RandomBytes(100);

        var wrongOffset = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "a.bin", TotalBytes = 100 });
        await Assert.ThrowsAsync<HubException>(() => connection.Hub.UploadAsync(wrongOffset.UploadId, 5, UploadStreams.Chunks(data, 50)).WaitAsync(Timeouts.Default));
        var wrongHash = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "b.bin", TotalBytes = 100, Sha256 = new string('0', 64) });
        await Assert.ThrowsAsync<HubException>(() => connection.Hub.UploadAsync(wrongHash.UploadId, 0, UploadStreams.Chunks(data, 50)).WaitAsync(Timeouts.Default));

        Assert.Equal("{upload}", failed.Instrument!.Unit);
        Assert.Equal(
            [SensorHubErrors.UploadOffsetMismatch, SensorHubErrors.UploadFailed],
            failed.GetMeasurementSnapshot().Select(m => Assert.Single(m.Tags, t => t.Key == SensorHubTelemetry.ErrorType).Value));
        Assert.All(failed.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));
        Assert.Empty(completed.GetMeasurementSnapshot());
    }

    [Fact]
    public void UploadsAreLoadedOnceTheServerHasStarted()
    {
        // The host starts only after the janitor's StartAsync has loaded the data folder.
        Assert.True(App.Services.GetRequiredService<UploadService>().IsLoaded);
    }

    private static MetricCollector<T> Collector<T>(IMeterFactory factory, string instrument)
        where T : struct => new(factory, SensorHubTelemetry.MeterName, instrument);
}
