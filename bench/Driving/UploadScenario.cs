using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>
/// Uploads over MessagePack: throughput, and how far the server's sampled peak memory rises above its idle level
/// (measured after a forced collection just before the upload starts).
/// </summary>
internal static class UploadScenario
{
    public static async Task<Measure> RunAsync(BenchTarget target, int chunkBytes, long totalBytes)
    {
        var chunk = new byte[chunkBytes];
        Random.Shared.NextBytes(chunk);
        var count = (int)(totalBytes / chunkBytes);
        var token = target.IsBaseline ? null : await target.DevTokenAsync("operator");
        await using var connection = await target.ConnectAsync(Protocol.MessagePack, token);

        var idle = await target.SampleAsync(collect: true);
        await target.ResetPeaksAsync();
        var clock = Stopwatch.StartNew();
        var bytes = target.IsBaseline
            ? await connection.InvokeAsync<long>("Upload", Repeat(chunk, count))
            : (await UploadAsync(connection, "bench.bin", "application/octet-stream", chunk, count)).Bytes;
        var seconds = clock.Elapsed.TotalSeconds;
        var peak = await target.SampleAsync();
        if (bytes != (long)count * chunkBytes)
            throw new InvalidOperationException($"{target.Name}: uploaded {bytes} of {(long)count * chunkBytes} bytes");
        return Measure.Of(
            ("MB/s", bytes / 1e6 / seconds),
            ("server peak working set above idle MB", (peak.PeakWorkingSetBytes - idle.WorkingSetBytes) / 1e6),
            ("server peak heap above idle MB", (peak.PeakHeapBytes - idle.HeapBytes) / 1e6));
    }

    /// <summary>One SensorHub upload of <paramref name="count"/> copies of <paramref name="chunk"/>.</summary>
    public static async Task<UploadResult> UploadAsync(HubConnection connection, string name, string contentType, byte[] chunk, int count)
    {
        var status = await connection.InvokeAsync<UploadStatus>(SensorHubMethods.BeginUpload,
            new UploadRequest { Name = name, ContentType = contentType, TotalBytes = (long)count * chunk.Length });
        return await connection.InvokeAsync<UploadResult>(SensorHubMethods.Upload, status.UploadId, 0L, Repeat(chunk, count));
    }

    /// <summary>
    /// A CSV chunk of whole rows <c>sensorId,unixMs,value</c> for one sensor, just under <paramref name="maxBytes"/>;
    /// sent again and again it makes a file of any size whose every row is valid.
    /// </summary>
    public static byte[] CsvChunk(string sensorId, int maxBytes)
    {
        var text = new StringBuilder(maxBytes);
        var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; ; i++)
        {
            var row = $"{sensorId},{ms + i},{i % 1000}.5\n";
            if (text.Length + row.Length > maxBytes)
                break;
            text.Append(row);
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static async IAsyncEnumerable<byte[]> Repeat(byte[] chunk, int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return chunk;
            if ((i & 7) == 7)
                await Task.Yield();
        }
    }
}
