using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SensorHub.Tests.Uploads;

/// <summary>Runs alone, after the parallel tests: it measures the process's heap and the feed's pauses.</summary>
[CollectionDefinition(nameof(UploadLoadTests), DisableParallelization = true)]
public sealed class UploadLoadCollection;

[Collection(nameof(UploadLoadTests))]
public sealed class UploadLoadTests(ITestOutputHelper output)
{
    private const int Chunk = 64 * 1024;

    /// <summary>
    /// Halfway through a 64 MB upload the client stops sending until the server has written what it got; the heap that
    /// survives a full collection then must be far below what holding the upload would take. Nothing is timed.
    /// </summary>
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task LargeUploadKeepsTheServersMemoryBounded(Protocol protocol)
    {
        const long total = 64L * 1024 * 1024, half = total / 2;
        await using var app = new SensorHubApplication(Transport.Kestrel);
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "big.bin", ContentType = "application/octet-stream", TotalBytes = total });
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long heapAtHalf = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        async IAsyncEnumerable<byte[]> Generate([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var block = UploadStreams.RandomBytes(1024 * 1024 + 7);
            for (long sent = 0; sent < total; sent += Chunk)
            {
                if (sent == half)
                {
                    await Timeouts.WaitUntilAsync(() => app.Services.GetStatus(begun.UploadId).ReceivedBytes == half, Timeouts.Default, "half the upload on disk");
                    heapAtHalf = GC.GetTotalMemory(forceFullCollection: true);
                }
                var chunk = block.AsSpan((int)(sent % (block.Length - Chunk)), Chunk).ToArray();
                hash.AppendData(chunk);
                yield return chunk;
            }
        }

        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, Generate(), cts.Token);

        var growth = heapAtHalf - heapBefore;
        output.WriteLine($"{protocol}: the heap grew by {growth:N0} bytes with {half:N0} bytes uploaded.");
        Assert.True(growth < 16 * 1024 * 1024, $"With {half:N0} bytes uploaded the heap grew by {growth:N0} bytes.");
        Assert.True(result.Complete);
        Assert.Equal(Convert.ToHexStringLower(hash.GetHashAndReset()), result.Sha256);
    }

    /// <summary>
    /// While a 100 MB CSV is uploaded and its rows are parsed and published, a subscriber on another sensor, fed at
    /// 100 Hz from a thread of its own, never waits for seconds for its next reading.
    /// </summary>
    [Fact]
    public async Task LiveReadingsKeepFlowingWhileALargeCsvIsProcessed()
    {
        const long target = 100L * 1024 * 1024;
        await using var app = new SensorHubApplication(Transport.Kestrel);
        var liveSensor = Sensors.NewId("live");
        await app.Engine.PublishAsync(liveSensor, 1);
        await using var viewer = await app.ConnectAsync(Protocol.MessagePack);
        await using var uploader = await app.ConnectAsync(Protocol.MessagePack);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var clock = Stopwatch.StartNew();
        var arrivals = new List<TimeSpan>();
        using var stopViewing = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var viewing = Task.Run(async () =>
        {
            try
            {
                await foreach (var _ in viewer.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, liveSensor, null, stopViewing.Token))
                {
                    lock (arrivals)
                        arrivals.Add(clock.Elapsed);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        await Hubs.SubscribeTests.WaitForSubscriberAsync(app, liveSensor);

        using var stopPublishing = new CancellationTokenSource();
        var publisher = new Thread(() =>
        {
            for (var i = 0; !stopPublishing.IsCancellationRequested; i++)
            {
                app.Engine.PublishAsync(liveSensor, i, DateTime.UtcNow, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                Thread.Sleep(10);
            }
        }) { IsBackground = true, Name = "live publisher" };
        publisher.Start();

        var begun = await uploader.Hub.BeginUploadAsync(new UploadRequest { Name = "bulk.csv", ContentType = "text/csv" });
        var uploadStarted = clock.Elapsed;
        var (chunks, rows) = BulkCsv(target);
        var result = await uploader.Hub.UploadAsync(begun.UploadId, 0, chunks, cts.Token);
        var uploadEnded = clock.Elapsed;
        await stopPublishing.CancelAsync();
        publisher.Join();
        await stopViewing.CancelAsync();
        await viewing;

        TimeSpan[] during;
        lock (arrivals)
            during = [uploadStarted, .. arrivals.Where(t => t > uploadStarted && t < uploadEnded), uploadEnded];
        var longest = during.Zip(during.Skip(1)).Max(pair => pair.Second - pair.First);
        output.WriteLine(
            $"{rows():N0} rows ({target / 1024 / 1024} MB) uploaded and processed in {(uploadEnded - uploadStarted).TotalSeconds:N1} s; " +
            $"{during.Length - 2} live readings arrived meanwhile, the longest wait between two was {longest.TotalMilliseconds:N0} ms.");
        Assert.True(result.Complete);
        Assert.Equal((rows(), rows(), 0L), (result.Csv!.Rows, result.Csv.Accepted, result.Csv.Rejected));
        // A bound on a pause, not a speed: parsing on the receiving or delivering path would stop the feed for most of
        // the upload (tens of seconds); 2 s leaves room for a 2-core machine busy with other tests. The bench measures
        // the feed's latency during an upload.
        Assert.True(longest < TimeSpan.FromSeconds(2), $"The live feed paused for {longest.TotalMilliseconds:N0} ms during the upload.");
    }

    /// <summary>About <paramref name="bytes"/> of CSV rows over 100 sensors, made as they are sent, in 64 KiB chunks.</summary>
    private static (IAsyncEnumerable<byte[]> Chunks, Func<long> Rows) BulkCsv(long bytes)
    {
        long rows = 0;
        async IAsyncEnumerable<byte[]> Generate()
        {
            var timestamp = 1_767_225_600_000L;
            var chunk = new byte[Chunk];
            for (long sent = 0; sent < bytes;)
            {
                var length = 0;
                while (true)
                {
                    var row = string.Create(CultureInfo.InvariantCulture, $"bulk/sensor-{rows % 100},{timestamp + rows},{rows % 1000 * 0.25}\n");
                    if (length + row.Length > chunk.Length)
                        break;
                    length += Encoding.ASCII.GetBytes(row, chunk.AsSpan(length));
                    rows++;
                }
                sent += length;
                yield return chunk[..length];
                await Task.Yield();
            }
        }
        return (Generate(), () => rows);
    }
}
