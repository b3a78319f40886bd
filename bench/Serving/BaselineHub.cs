using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;

namespace SensorHub.Bench.Serving;

/// <summary>
/// The baseline: a plain SignalR hub written the way the docs show it. A group broadcast
/// (<c>Join</c> + <c>Clients.Group(g).SendAsync</c>), and a streaming method (an async iterator, as in the docs'
/// streaming sample) reading its own bounded channel that one publisher feeds: in process, or a device through the
/// client-to-server streams <c>Publish</c> and <c>PublishBatches</c> (SensorHub's names and types, so that the same
/// device process drives both servers). No authentication.
/// </summary>
internal sealed class BaselineHub(BaselinePublisher publisher) : Hub
{
    public const string Path = "/hubs/baseline";
    public const string ReadingMethod = "reading";

    public Task Join(string sensorId) => Groups.AddToGroupAsync(Context.ConnectionId, sensorId);

    public IAsyncEnumerable<Reading> Subscribe(string sensorId, CancellationToken cancellationToken) =>
        publisher.SubscribeAsync(sensorId, cancellationToken);

    /// <summary>A device's readings, read as the docs' client-to-server streaming sample reads its stream.</summary>
    /// <returns>How many readings arrived, all of them accepted.</returns>
    public async Task<PublishResult> Publish(IAsyncEnumerable<ReadingInput> readings)
    {
        long count = 0;
        await foreach (var reading in readings)
        {
            await publisher.PublishAsync(reading.SensorId!, reading.Value, group: false);
            count++;
        }
        return new PublishResult { Accepted = count };
    }

    /// <summary>The same as <see cref="Publish"/>, several readings per item.</summary>
    public async Task<PublishResult> PublishBatches(IAsyncEnumerable<ReadingInput[]> batches)
    {
        long count = 0;
        await foreach (var batch in batches)
        {
            foreach (var reading in batch)
            {
                await publisher.PublishAsync(reading.SensorId!, reading.Value, group: false);
                count++;
            }
        }
        return new PublishResult { Accepted = count };
    }

    /// <summary>A client-to-server stream written to a temp file, as the docs' upload sample does.</summary>
    public async Task<long> Upload(IAsyncEnumerable<byte[]> chunks)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"baseline-upload-{Guid.NewGuid():N}.bin");
        long bytes = 0;
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
            await foreach (var chunk in chunks)
            {
                await file.WriteAsync(chunk, Context.ConnectionAborted);
                bytes += chunk.Length;
            }
        }
        finally
        {
            File.Delete(path);
        }
        return bytes;
    }
}

/// <summary>The baseline's one publisher: writes each reading to every subscriber's channel, or to a SignalR group.</summary>
internal sealed class BaselinePublisher(IHubContext<BaselineHub> hub, StreamEndClock ends) : IBenchFeed
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<Reading>, byte>> _streams = new(StringComparer.Ordinal);
    private long _sequence;
    private long _activeStreams;

    public long ActiveStreams => Interlocked.Read(ref _activeStreams);

    public async IAsyncEnumerable<Reading> SubscribeAsync(string sensorId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<Reading>(new BoundedChannelOptions(1000)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        var subscribers = _streams.GetOrAdd(sensorId, _ => new());
        subscribers.TryAdd(channel, 0);
        Interlocked.Increment(ref _activeStreams);
        try
        {
            await foreach (var reading in channel.Reader.ReadAllAsync(cancellationToken))
                yield return reading;
        }
        finally
        {
            subscribers.TryRemove(channel, out _);
            Interlocked.Decrement(ref _activeStreams);
            ends.Record();
        }
    }

    public ValueTask RegisterAsync(string sensorId) => ValueTask.CompletedTask;

    public ValueTask PublishAsync(string sensorId, double value, bool group)
    {
        var reading = new Reading { SensorId = sensorId, Sequence = Interlocked.Increment(ref _sequence), Timestamp = DateTime.UtcNow, Value = value };
        if (group)
            return new ValueTask(hub.Clients.Group(sensorId).SendAsync(BaselineHub.ReadingMethod, reading));
        if (_streams.TryGetValue(sensorId, out var subscribers))
            foreach (var channel in subscribers.Keys)
                channel.Writer.TryWrite(reading);
        return ValueTask.CompletedTask;
    }
}
