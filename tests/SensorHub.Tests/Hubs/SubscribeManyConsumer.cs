using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// One <c>SubscribeMany</c> stream read in the background: every reading kept in arrival order, each batch counted,
/// and the way the stream ended (<see cref="Completion"/>). Disposing cancels the stream and waits for it to end.
/// </summary>
internal sealed class SubscribeManyConsumer : IAsyncDisposable
{
    private readonly CancellationTokenSource _leave;
    private readonly List<Reading> _readings = [];
    private readonly Func<Reading[], Task>? _onBatch;
    private int _batches;
    private int _largestBatch;

    private SubscribeManyConsumer(HubConnection hub, string pattern, SubscribeManyOptions? options, Func<Reading[], Task>? onBatch, CancellationToken cancellationToken)
    {
        _leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _onBatch = onBatch;
        Completion = ReadAsync(hub, pattern, options);
    }

    /// <summary>Ends when the stream ends: normally, with the server's error, or cancelled.</summary>
    public Task Completion { get; }

    public int Batches => Volatile.Read(ref _batches);

    public int LargestBatch => Volatile.Read(ref _largestBatch);

    /// <summary>Starts reading; <paramref name="onBatch"/>, when given, runs before the next batch is read (a slow consumer).</summary>
    public static SubscribeManyConsumer Start(
        HubConnection hub, string pattern, SubscribeManyOptions? options, CancellationToken cancellationToken, Func<Reading[], Task>? onBatch = null) =>
        new(hub, pattern, options, onBatch, cancellationToken);

    /// <summary>Every reading so far, in arrival order.</summary>
    public List<Reading> Readings()
    {
        lock (_readings)
            return [.. _readings];
    }

    /// <summary>The readings of one sensor so far, in arrival order.</summary>
    public List<Reading> Of(string sensorId)
    {
        lock (_readings)
            return _readings.Where(r => r.SensorId == sensorId).ToList();
    }

    public Task WaitForAsync(Func<List<Reading>, bool> condition, string what) =>
        Timeouts.WaitUntilAsync(
            () => Completion.IsFaulted ? throw new InvalidOperationException($"The stream failed while waiting for {what}.", Completion.Exception) : condition(Readings()),
            Timeouts.Default,
            what);

    /// <summary>Waits until <paramref name="count"/> readings of <paramref name="sensorId"/> arrived.</summary>
    public Task WaitForAsync(string sensorId, int count) =>
        WaitForAsync(readings => readings.Count(r => r.SensorId == sensorId) >= count, $"{count} readings of {sensorId} (has {Of(sensorId).Count})");

    public async ValueTask DisposeAsync()
    {
        await _leave.CancelAsync();
        try
        {
            await Completion.WaitAsync(Timeouts.Default);
        }
        catch (Exception) when (Completion.IsCompleted)
        {
            // Cancelled or failed: the test looks at Completion itself when it cares.
        }
        _leave.Dispose();
    }

    private async Task ReadAsync(HubConnection hub, string pattern, SubscribeManyOptions? options)
    {
        await Task.Yield();
        await foreach (var batch in hub.StreamAsync<Reading[]>(SensorHubMethods.SubscribeMany, pattern, options, _leave.Token))
        {
            lock (_readings)
                _readings.AddRange(batch);
            Interlocked.Increment(ref _batches);
            if (batch.Length > _largestBatch)
                Volatile.Write(ref _largestBatch, batch.Length);
            if (_onBatch is not null)
                await _onBatch(batch);
        }
    }
}
