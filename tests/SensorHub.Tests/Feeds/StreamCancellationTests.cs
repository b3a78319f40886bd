using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// A cancelled stream ends once it has handed out what its live buffer held (as the generator always did, so that the
/// jumps in it are counted as dropped): its token is registered once and its waits take none, so it is the disposed
/// subscription that ends the wait, and the generator that throws the cancellation.
/// </summary>
public sealed class StreamCancellationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACancelledStreamEndsAfterItsBuffer(bool batches)
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

            // At most what the buffer held, then the cancellation: a spinning wait would never come back.
            var steps = 0;
            var ended = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                while (await stream.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default))
                    steps++;
            });
            Assert.InRange(steps, 0, 500);
        }
        finally
        {
            await stream.DisposeAsync();
        }
        Assert.Equal(0, harness.Engine.GetCounters().Subscriptions);
    }
}
