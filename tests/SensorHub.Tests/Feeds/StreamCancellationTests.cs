using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// A cancelled stream hands out nothing more, not even what its live buffer already holds: SignalR sends whatever the
/// generator yields without looking at the token, and a client that cancels is often one that reads slowly.
/// </summary>
public sealed class StreamCancellationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACancelledStreamYieldsNoBufferedReading(bool batches)
    {
        using var harness = new EngineHarness();
        await harness.Engine.PublishAsync("s", 1);
        var feeds = new FeedStreams(harness.Engine, harness.History, harness.Options, harness.Time, NullLogger<FeedStreams>.Instance);
        using var cancel = new CancellationTokenSource();
        IAsyncEnumerator<object> stream = batches
            ? feeds.BatchesAsync("s", null, cancel.Token).GetAsyncEnumerator(cancel.Token)
            : feeds.ReadingsAsync("s", null, cancel.Token).GetAsyncEnumerator(cancel.Token);
        try
        {
            var first = stream.MoveNextAsync().AsTask();
            await harness.Engine.PublishAsync("s", 1);
            Assert.True(await first.WaitAsync(Timeouts.Default));
            // 500 more wait in the live buffer when the client cancels.
            await harness.Engine.PublishAsync("s", 500);

            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default));
        }
        finally
        {
            await stream.DisposeAsync();
        }
        Assert.Equal(0, harness.Engine.GetCounters().Subscriptions);
    }
}
