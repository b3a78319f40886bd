using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds.Internal;
using SensorHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// <see cref="SlowConsumerTests"/> runs alone, after the parallel tests: it measures the process's managed heap, and its
/// timing (SignalR closes a connection whose sends stay blocked for 10 s) should not depend on other tests' load.
/// </summary>
[CollectionDefinition(nameof(SlowConsumerTests), DisableParallelization = true)]
public sealed class SlowConsumerCollection;

[Collection(nameof(SlowConsumerTests))]
public sealed class SlowConsumerTests(ITestOutputHelper output)
{
    private const int BufferCapacity = 200;
    private const int HistoryCapacity = 1_000;
    private const int Published = 100_000;

    /// <summary>The publisher stays at most this far ahead of the fast consumer's buffer, so the fast one never overflows.</summary>
    private const int Chunk = BufferCapacity / 2;

    /// <summary>Time the fast consumer gets to take one chunk off its buffer; far above what it needs (well under 10 ms).</summary>
    private static readonly TimeSpan s_chunkDeadline = TimeSpan.FromSeconds(5);

    /// <summary>The whole publishing run; it takes about two seconds.</summary>
    private static readonly TimeSpan s_publishDeadline = TimeSpan.FromSeconds(30);

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AConsumerThatStopsReadingDoesNotDelayAFastConsumerAndItsBufferStaysBounded(Protocol protocol)
    {
        await using var app = new SensorHubApplication(Transport.Kestrel, new Dictionary<string, string?>
        {
            ["SensorHub:Feeds:SubscriberBufferCapacity"] = BufferCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SensorHub:Feeds:HistoryCapacity"] = HistoryCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var sensorId = Sensors.NewId("slow-consumer");
        var first = (await app.Engine.PublishAsync(sensorId, 1, firstValue: -1))[0];
        using var cts = new CancellationTokenSource(s_publishDeadline + Timeouts.Default);

        // The stuck consumer: a 4 KiB receive window, one Subscribe, and never a read after the handshake.
        await using var stuck = await RawHubClient.ConnectOverTcpAsync(app.HubUri, receiveBufferSize: 4096, cts.Token);
        await stuck.HandshakeAsync(protocol, cts.Token);
        await stuck.SubscribeAsync("1", sensorId, fromSequence: null, cts.Token);
        await SubscribeTests.WaitForSubscriberAsync(app, sensorId);
        var stuckSubscription = Assert.Single(SubscriptionsOf(app, sensorId));

        var fast = await app.ConnectAsync(protocol, cts.Token);
        LiveSubscription fastSubscription;
        Task<int> fastChecked;
        try
        {
            fastChecked = ReceiveAllInOrderAsync(fast.Hub, sensorId, first.Sequence + 1, cts.Token);
            await SubscribeTests.WaitForSubscriberAsync(app, sensorId, 2);
            fastSubscription = Assert.Single(SubscriptionsOf(app, sensorId), s => s != stuckSubscription);

            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            // On a thread of its own with a deadline, so that a publisher blocked by a subscriber fails the test instead of hanging it.
            var (longestPublish, longestWait, mostBuffered) = await Task.Run(
                    () => PublishPacedToAsync(app, sensorId, fastSubscription, cts.Token), cts.Token)
                .WaitAsync(s_publishDeadline, cts.Token);
            var publishTime = clock.Elapsed;
            // SignalR closes a connection whose transport has been blocked sending for 10 s (TransportSendTimeout):
            // the stuck consumer must still be there, or this run did not test a stuck consumer.
            Assert.True(
                SubscriptionsOf(app, sensorId).Contains(stuckSubscription),
                $"The stuck consumer's connection was closed before publishing ended ({publishTime.TotalSeconds:N1} s): " +
                "SignalR closes a connection whose sends are blocked for 10 s, so publishing was held up, or this machine is too slow for the test.");
            Assert.True(
                longestPublish < TimeSpan.FromSeconds(1),
                $"One PublishAsync took {longestPublish.TotalMilliseconds:N0} ms: the publisher waited for a subscriber.");

            Assert.Equal(Published, await fastChecked.WaitAsync(Timeouts.Default, cts.Token));
            output.WriteLine(
                $"{protocol}: published {Published:N0} in {publishTime.TotalMilliseconds:N0} ms; longest PublishAsync {longestPublish.TotalMilliseconds:N1} ms, " +
                $"longest wait for the fast consumer {longestWait.TotalMilliseconds:N1} ms, most buffered by any subscriber {mostBuffered}; " +
                $"fast consumer done after {clock.Elapsed.TotalMilliseconds:N0} ms.");
            Assert.InRange(mostBuffered, 0, BufferCapacity);

            // The fast consumer's readings are gone now; what the heap still holds is the stuck connection's share.
            await fast.DisposeAsync();
            var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            var growth = heapAfter - heapBefore;
            // Holding every published reading would take at least Published objects of 48 bytes (4.8 MB); the stuck
            // connection's bounded share (200 buffered readings, 1,000 in history, transport buffers) is far below that.
            var allReadings = Published * 48L;
            output.WriteLine($"{protocol}: managed heap grew by {growth:N0} bytes; every reading held would be at least {allReadings:N0}.");
            Assert.True(growth < allReadings / 2, $"The managed heap grew by {growth:N0} bytes while a consumer was stuck.");
        }
        finally
        {
            await fast.DisposeAsync();
        }

        // The stuck consumer overflowed its buffer: every reading offered to it is either still buffered, handed to
        // its connection, or dropped; and the drops counted in the stats are all its own.
        Assert.InRange(stuckSubscription.Live.Count, 0, BufferCapacity);
        await Timeouts.WaitUntilAsync(
            () => stuckSubscription.Delivered + stuckSubscription.Dropped + stuckSubscription.Live.Count == Published,
            Timeouts.Default,
            "every reading offered to the stuck consumer is buffered, delivered or dropped");
        output.WriteLine(
            $"{protocol}: the stuck consumer's connection took {stuckSubscription.Delivered:N0} readings, " +
            $"{stuckSubscription.Dropped:N0} were dropped, {stuckSubscription.Live.Count} are buffered.");
        Assert.True(stuckSubscription.Dropped > Published / 2, $"Only {stuckSubscription.Dropped:N0} readings were dropped for the stuck consumer.");
        Assert.Equal(0, fastSubscription.Dropped);
        var stats = await app.GetStatsAsync();
        Assert.Equal(Published + 1, stats.ReadingsPublished);
        Assert.Equal(stuckSubscription.Dropped, stats.ReadingsDropped);

        // A stuck consumer that goes away releases its subscription: the server sees the reset and ends its stream.
        stuck.Abort();
        await Timeouts.WaitUntilAsync(() => SubscriptionsOf(app, sensorId).Length == 0, Timeouts.Default, "the stuck subscription is released");
    }

    /// <summary>
    /// Publishes straight into the engine in chunks of half a buffer, each once the fast consumer's buffer has room for
    /// it. A fast consumer that something holds up fails the wait; a stuck one is waited for by nobody.
    /// </summary>
    private static async Task<(TimeSpan LongestPublish, TimeSpan LongestWait, int MostBuffered)> PublishPacedToAsync(
        SensorHubApplication app, string sensorId, LiveSubscription fast, CancellationToken cancellationToken)
    {
        var engine = app.Engine;
        var longestPublish = TimeSpan.Zero;
        var longestWait = TimeSpan.Zero;
        var mostBuffered = 0;
        for (var i = 0; i < Published; i++)
        {
            var publishing = Stopwatch.GetTimestamp();
            await engine.PublishAsync(sensorId, i, DateTime.UtcNow, cancellationToken);
            var took = Stopwatch.GetElapsedTime(publishing);
            if (took > longestPublish)
                longestPublish = took;
            if ((i + 1) % Chunk != 0)
                continue;

            foreach (var subscription in SubscriptionsOf(app, sensorId))
                mostBuffered = Math.Max(mostBuffered, subscription.Live.Count);

            var started = Stopwatch.GetTimestamp();
            while (fast.Live.Count > BufferCapacity - Chunk)
            {
                var waited = Stopwatch.GetElapsedTime(started);
                if (waited > s_chunkDeadline)
                {
                    Assert.Fail(
                        $"After {i + 1:N0} readings the fast consumer still had {fast.Live.Count} buffered after {waited.TotalSeconds:N1} s: " +
                        "something holds it up.");
                }
                await Task.Delay(1, cancellationToken);
            }
            var wait = Stopwatch.GetElapsedTime(started);
            if (wait > longestWait)
                longestWait = wait;
        }
        return (longestPublish, longestWait, mostBuffered);
    }

    /// <summary>Reads all <see cref="Published"/> readings and checks them, keeping nothing once it returns.</summary>
    private static async Task<int> ReceiveAllInOrderAsync(HubConnection hub, string sensorId, long firstSequence, CancellationToken cancellationToken)
    {
        var readings = await hub.ReadReadingsAsync(sensorId, null, Published, cancellationToken);
        Assert.Equal(Published, readings.Count);
        Assert.Equal(firstSequence, readings[0].Sequence);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(Published - 1, readings[^1].Value);
        return readings.Count;
    }

    private static LiveSubscription[] SubscriptionsOf(SensorHubApplication app, string sensorId) =>
        app.Services.GetRequiredService<SensorFeedRegistry>().TryGet(sensorId, out var feed) ? feed.Subscribers : [];
}
