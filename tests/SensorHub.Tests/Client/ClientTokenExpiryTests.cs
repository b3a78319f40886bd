using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// The SDK gets a token from its provider at every connection attempt, through SignalR's own WebSocket transport
/// (without negotiation, as the SDK connects; no test hook in between): when the server closes a connection at its token's expiry, the client
/// reconnects with a fresh token and its subscriptions go on; an expired token is retried at the reconnect pace.
/// </summary>
public sealed class ClientTokenExpiryTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    /// <summary>Short, but long enough for a loaded machine to connect before it runs out.</summary>
    private static readonly TimeSpan ShortLifetime = TimeSpan.FromSeconds(3);

    /// <summary>Three expiries of <see cref="ShortLifetime"/> and their reconnections, with room to spare.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SubscriptionGoesOnAcrossTokenExpiriesWithoutGapOrDuplicate(Protocol protocol)
    {
        var app = apps.Default;
        var claims = SensorHubApplication.ClaimsOf(TestUser.Viewer($"vera-{Guid.NewGuid():N}"));
        var tokens = 0;
        var recorder = new Recorder();
        await using var client = recorder.Watch(NewClient(app, protocol, () =>
        {
            Interlocked.Increment(ref tokens);
            return app.MintToken(claims, ShortLifetime);
        }));
        await client.StartAsync().WaitAsync(Timeouts.Default);
        // Until three connections have expired and been replaced, and readings came after the third.
        var (first, received) = await SubscribeAcrossReconnectsAsync(app, client, recorder, reconnects: 3);

        Assert.Equal(first, received[0].Sequence);
        Sensors.AssertConsecutive(received);
        Assert.Empty(recorder.Gaps);
        // Each connection was closed by the server's close message (no error, reconnecting allowed), not dropped.
        Assert.True(recorder.Count(ConnectionChange.Reconnecting) >= 3);
        Assert.All(recorder.Errors(ConnectionChange.Reconnecting), Assert.Null);
        Assert.Equal(0, recorder.Count(ConnectionChange.Disconnected));
        // One token for the start and one at least for each reconnection.
        Assert.True(Volatile.Read(ref tokens) >= 4, $"{tokens} tokens");
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ExpiredTokensAreRetriedAtTheReconnectPaceUntilAFreshOneComes(Protocol protocol)
    {
        const int ExpiredTokens = 5;
        var app = apps.Default;
        var claims = SensorHubApplication.ClaimsOf(TestUser.Viewer($"vera-{Guid.NewGuid():N}"));
        var handOutExpired = false;
        var expiredHandedOut = 0;
        var policy = new RecordingPolicy(TimeSpan.FromMilliseconds(50));
        var recorder = new Recorder();
        // A short token to start with; once asked to, five tokens that are already expired; then long-lived ones.
        await using var client = recorder.Watch(NewClient(app, protocol, () =>
        {
            if (!Volatile.Read(ref handOutExpired))
                return app.MintToken(claims, ShortLifetime);
            if (Interlocked.Increment(ref expiredHandedOut) <= ExpiredTokens)
                return app.MintToken(claims, TimeSpan.FromHours(1), DateTime.UtcNow.AddHours(-2));
            return app.MintToken(claims, TimeSpan.FromHours(1));
        }, policy));
        await client.StartAsync().WaitAsync(Timeouts.Default);
        Volatile.Write(ref handOutExpired, true);
        var (first, received) = await SubscribeAcrossReconnectsAsync(app, client, recorder, reconnects: 1);

        // Every expired token was tried and refused (401), each attempt paced by the policy, which SignalR asked
        // again after each failure; then a fresh token got in, and the subscription went on where it stood.
        Assert.True(Volatile.Read(ref expiredHandedOut) > ExpiredTokens, $"{expiredHandedOut} tokens asked for in the expired phase");
        Assert.Equal(Enumerable.Range(0, ExpiredTokens + 1).Select(i => (long)i), policy.RetryCounts.Take(ExpiredTokens + 1));
        Assert.Equal(1, recorder.Count(ConnectionChange.Reconnecting));
        Assert.Equal(1, recorder.Count(ConnectionChange.Reconnected));
        Assert.Equal(0, recorder.Count(ConnectionChange.Disconnected));
        Assert.Equal(first, received[0].Sequence);
        Sensors.AssertConsecutive(received);
        Assert.Empty(recorder.Gaps);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task StartWithAnExpiredTokenFailsWith401(Protocol protocol)
    {
        var app = apps.Default;
        var claims = SensorHubApplication.ClaimsOf(TestUser.Viewer());
        await using var client = NewClient(app, protocol, () => app.MintToken(claims, TimeSpan.FromHours(1), DateTime.UtcNow.AddHours(-2)));

        // Without negotiation the WebSocket upgrade itself is refused: the status is in the WebSocket's error.
        var error = await Assert.ThrowsAsync<WebSocketException>(() => client.StartAsync().WaitAsync(Timeouts.Default));

        Assert.Contains("'401'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A client over SignalR's own transport, so that SignalR alone decides when to ask for a token.</summary>
    private static SensorHubClient NewClient(SensorHubApplication app, Protocol protocol, Func<string> token, IRetryPolicy? policy = null) =>
        new(new SensorHubClientOptions
        {
            Url = app.BaseUri,
            Protocol = protocol == Protocol.Json ? SensorHubProtocol.Json : SensorHubProtocol.MessagePack,
            AccessTokenProvider = () => Task.FromResult<string?>(token()),
            ReconnectDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100)],
            ReconnectPolicy = policy,
        });

    /// <summary>A reading every 10 ms, as a device would, until stopped.</summary>
    /// <summary>
    /// Subscribes from a first reading while readings are published, until the client has reconnected
    /// <paramref name="reconnects"/> times and 20 more readings came after that; returns the first sequence and all received.
    /// </summary>
    private static async Task<(long First, List<Reading> Received)> SubscribeAcrossReconnectsAsync(
        SensorHubApplication app, SensorHubClient client, Recorder recorder, int reconnects)
    {
        var sensorId = Sensors.NewId();
        var first = (await app.Engine.PublishAsync(sensorId, 1))[0].Sequence;
        using var stopPublishing = new CancellationTokenSource();
        var publisher = PublishUntilAsync(app, sensorId, stopPublishing.Token);
        using var deadline = new CancellationTokenSource(Patience);
        var received = new List<Reading>();
        int? atReconnect = null;
        await foreach (var reading in client.SubscribeAsync(sensorId, new SubscribeOptions { FromSequence = first }, deadline.Token))
        {
            received.Add(reading);
            if (recorder.Count(ConnectionChange.Reconnected) >= reconnects && (atReconnect ??= received.Count) + 20 <= received.Count)
                break;
        }
        await stopPublishing.CancelAsync();
        await publisher;
        return (first, received);
    }

    private static async Task PublishUntilAsync(SensorHubApplication app, string sensorId, CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            await app.Engine.PublishAsync(sensorId, 1);
            await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>A client's connection changes and gaps, as they come.</summary>
    private sealed class Recorder
    {
        private readonly ConcurrentQueue<(ConnectionChange Change, Exception? Error)> _changes = new();
        private readonly ConcurrentQueue<SequenceGap> _gaps = new();

        public IReadOnlyCollection<SequenceGap> Gaps => _gaps;

        public SensorHubClient Watch(SensorHubClient client)
        {
            client.ConnectionStateChanged += (_, e) => _changes.Enqueue((e.Change, e.Error));
            client.GapDetected += (_, e) => _gaps.Enqueue(e.Gap);
            return client;
        }

        public int Count(ConnectionChange change) => _changes.Count(c => c.Change == change);

        public IEnumerable<Exception?> Errors(ConnectionChange change) => _changes.Where(c => c.Change == change).Select(c => c.Error);
    }

    /// <summary>Waits the same short time before every reconnection attempt, and records SignalR's count of attempts that failed before each.</summary>
    private sealed class RecordingPolicy(TimeSpan delay) : IRetryPolicy
    {
        private readonly ConcurrentQueue<long> _retryCounts = new();

        public IEnumerable<long> RetryCounts => _retryCounts;

        public TimeSpan? NextRetryDelay(RetryContext retryContext)
        {
            _retryCounts.Enqueue(retryContext.PreviousRetryCount);
            return delay;
        }
    }
}
