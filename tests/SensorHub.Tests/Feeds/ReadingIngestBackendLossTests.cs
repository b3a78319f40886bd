using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// An engine that loses its store while ingest waits for the publisher's next item: the publisher gets the engine's
/// error (<c>backend_unavailable</c>, with what was accepted), and its stream is ended and disposed, not left hanging.
/// </summary>
public sealed class ReadingIngestBackendLossTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFlushThatFailsWhileTheNextItemIsAwaitedEndsTheStreamAndThrowsTheEnginesError(bool batches)
    {
        using var harness = new EngineHarness();
        var ingest = new ReadingIngest(new LostStore(harness.Engine), harness.Options, harness.Refusals, harness.Time, NullLogger<ReadingIngest>.Instance);
        var device = new WaitingDevice();
        var publisher = new Publisher("alice", _ => true);

        var error = await Assert.ThrowsAsync<SensorHubException>(() => batches
            ? ingest.PublishBatchesAsync(device.Batches(), publisher, CancellationToken.None).WaitAsync(Infrastructure.Timeouts.Default)
            : ingest.PublishAsync(device.Readings(), publisher, CancellationToken.None).WaitAsync(Infrastructure.Timeouts.Default));

        Assert.Equal(SensorHubErrors.BackendUnavailable, error.Code);
        Assert.Contains("0 readings of this stream were accepted", error.Message, StringComparison.Ordinal);
        // The device's wait for its next item was cancelled and its stream disposed: its finally ran.
        Assert.True(device.Ended);
    }

    /// <summary>Sends one item, then waits for ever (until its stream is cancelled), as a quiet device does.</summary>
    private sealed class WaitingDevice
    {
        public bool Ended { get; private set; }

        public async IAsyncEnumerable<ReadingInput?> Readings([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            try
            {
                yield return new ReadingInput { SensorId = "d/1", Value = 1 };
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Ended = true;
            }
        }

        public async IAsyncEnumerable<ReadingInput?[]?> Batches([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var reading in Readings(cancellationToken))
                yield return [reading];
        }
    }

    /// <summary>The in-memory engine whose every publish fails as a Redis engine's does once Redis is gone.</summary>
    private sealed class LostStore(IFeedEngine inner) : IFeedEngine
    {
        public ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken) => inner.RegisterAsync(sensor, cancellationToken);

        public ValueTask<PublishOutcome> PublishAsync(
            string sensorId, double value, DateTime timestampUtc, SensorRegistration registration, CancellationToken cancellationToken) =>
            throw new SensorHubException(SensorHubErrors.BackendUnavailable, "This node cannot reach Redis: gone.");

        public ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken) => inner.FindSensorAsync(sensorId, cancellationToken);

        public ValueTask<SensorPage> ListSensorsAsync(
            string prefix, string? after, int limit, Predicate<string>? visible, CancellationToken cancellationToken) =>
            inner.ListSensorsAsync(prefix, after, limit, visible, cancellationToken);

        public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken) =>
            inner.SubscribeAsync(sensorId, mode, cancellationToken);

        public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken) =>
            inner.SubscribeAsync(sensorId, buffer, cancellationToken);

        public ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken) =>
            inner.WatchSensorsAsync(prefix, cancellationToken);

        public ValueTask<int> RemoveIdleSensorsAsync(TimeSpan idleFor, CancellationToken cancellationToken) =>
            inner.RemoveIdleSensorsAsync(idleFor, cancellationToken);

        public FeedCounters GetCounters() => inner.GetCounters();
    }
}
