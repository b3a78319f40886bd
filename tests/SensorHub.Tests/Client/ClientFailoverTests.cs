using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// An SDK client given two servers (<see cref="SensorHubClientOptions.ServerUrls"/>) on real Kestrel, through
/// SignalR's own WebSocket transport without negotiation: when the one it is on goes away, or answers
/// <c>backend_unavailable</c>, its subscriptions resume on the other. These servers run the in-memory engine, each with
/// its own numbering, so what is checked is the resume and the jump it reports as a restart, not continuity (which
/// the Redis failover tests check across nodes that share a Redis). Both share one signing key, as a cluster's nodes do.
/// </summary>
public sealed class ClientFailoverTests
{
    private static readonly Dictionary<string, string?> SharedKey = new() { ["SensorHub:Auth:SigningKey"] = RedisNodes.SigningKey };

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ASubscriptionResumesOnTheSecondServerWhenTheFirstStops(Protocol protocol)
    {
        await using var pair = await ServerPair.StartAsync();
        await using var client = await pair.ConnectAsync(protocol);
        Assert.Equal(pair.First.HubUri, client.Client.HubUrl);
        var sensorId = Sensors.NewId();
        var before = await pair.First.Engine.PublishAsync(sensorId, 5);
        var subscription = client.Subscribe(sensorId, before[0].Sequence, count: 8);
        await subscription.WaitForAsync(5);

        await pair.First.DisposeAsync();
        // The device moves too: the second server learns of the sensor when it publishes there.
        var after = await pair.Second.Engine.PublishAsync(sensorId, 3);
        var received = await subscription.EndAsync();

        Assert.Equal([.. before.Select(r => r.Sequence), .. after.Select(r => r.Sequence)], received.Select(r => r.Sequence));
        var gap = Assert.Single(subscription.Gaps);
        Assert.Equal(SequenceGapCause.ServerRestart, gap.Cause);
        Assert.Equal((before[^1].Sequence + 1, after[0].Sequence - 1), (gap.FromSequence, gap.ToSequence));
        Assert.Equal(pair.Second.HubUri, client.Client.HubUrl);
        Assert.True(client.Harness.CountLogs(FailoverLogEvents.ServerUnreachable) >= 1, "The client said it moved on from the server that went.");
    }

    [Fact]
    public async Task StartTriesTheNextServerWhenTheFirstDoesNotAnswer()
    {
        await using var pair = await ServerPair.StartAsync();
        var gone = pair.First.BaseUri;
        var token = await pair.First.GetTokenAsync(TestUser.Admin);
        await pair.First.DisposeAsync();

        await using var client = new SensorHubClient(new SensorHubClientOptions
        {
            ServerUrls = [gone, pair.Second.BaseUri],
            AccessTokenProvider = () => Task.FromResult<string?>(token),
        });
        await client.StartAsync().WaitAsync(Timeouts.Default);

        Assert.Equal(pair.Second.HubUri, client.HubUrl);
        Assert.NotNull(await client.ListSensorsAsync().WaitAsync(Timeouts.Default));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task BackendUnavailableMovesTheConnectionToTheNextServerAndTheSubscriptionResumesThere(Protocol protocol)
    {
        await using var pair = await ServerPair.StartAsync();
        await using var client = await pair.ConnectAsync(protocol);
        var sensorId = Sensors.NewId();
        var before = await pair.First.Engine.PublishAsync(sensorId, 3);
        var subscription = client.Subscribe(sensorId, before[0].Sequence, count: 5);
        await subscription.WaitForAsync(3);

        // The first server loses its backend: its live stream ends with backend_unavailable, its connection stays up.
        pair.FirstOutage.Begin();
        await client.Harness.WaitForLogAsync(FailoverLogEvents.LeavingServer, "the client left the server that cannot serve");
        var after = await pair.Second.Engine.PublishAsync(sensorId, 2);
        var received = await subscription.EndAsync();

        Assert.Equal([.. before.Select(r => r.Sequence), .. after.Select(r => r.Sequence)], received.Select(r => r.Sequence));
        Assert.Equal(pair.Second.HubUri, client.Client.HubUrl);
        Assert.Contains(ConnectionChange.Reconnected, client.Harness.Changes);
        Assert.Equal(1, pair.FirstOutage.StreamsCut);
    }

    [Fact]
    public async Task BackendUnavailableOnTheOnlyServerIsWaitedOutNeverFinal()
    {
        await using var pair = await ServerPair.StartAsync();
        pair.FirstOutage.Begin();
        await using var client = await pair.ConnectAsync(Protocol.MessagePack, onlyFirst: true);
        var sensorId = Sensors.NewId();
        var published = await pair.First.Engine.PublishAsync(sensorId, 2);

        // Even a subscription's first attempt: the node cannot serve now, not the call is wrong.
        var subscription = client.Subscribe(sensorId, published[0].Sequence, count: 2);
        await client.Harness.WaitForLogAsync(
            ClientLogEvents.Resuming, "two refusals resumed", e => e.Message.Contains("Interrupted", StringComparison.Ordinal), count: 2);
        pair.FirstOutage.End();
        var received = await subscription.EndAsync();

        Assert.Equal(published.Select(r => r.Sequence), received.Select(r => r.Sequence));
        Assert.Equal(0, client.Harness.CountLogs(FailoverLogEvents.LeavingServer));
        Assert.DoesNotContain(ConnectionChange.Reconnecting, client.Harness.Changes);
    }

    [Fact]
    public async Task AnIdempotentCallAnsweredBackendUnavailableIsRetriedOnTheNextServer()
    {
        await using var pair = await ServerPair.StartAsync();
        await using var client = await pair.ConnectAsync(Protocol.Json);
        var sensorId = Sensors.NewId();
        await pair.Second.Engine.PublishAsync(sensorId, 1);

        pair.FirstOutage.Begin();
        var sensors = await client.Client.ListSensorsAsync().WaitAsync(Timeouts.Default);

        Assert.Contains(sensors, s => s.Id == sensorId);
        Assert.Equal(pair.Second.HubUri, client.Client.HubUrl);
    }

    [Fact]
    public void OptionsNeedAtLeastOneAbsoluteServerUrl()
    {
        Assert.Throws<ArgumentException>(() => new SensorHubClient(new SensorHubClientOptions()));
        Assert.Throws<ArgumentException>(() => new SensorHubClient(new SensorHubClientOptions { ServerUrls = [new Uri("/relative", UriKind.Relative)] }));
    }

    [Fact]
    public async Task UrlComesFirstThenServerUrlsEachOnce()
    {
        await using var client = new SensorHubClient(new SensorHubClientOptions
        {
            Url = new Uri("http://a:5101/"),
            ServerUrls = [new Uri("http://b:5102"), new Uri("http://a:5101"), new Uri("https://c/prefix/")],
        });

        Assert.Equal(
            ["http://a:5101/hubs/sensors", "http://b:5102/hubs/sensors", "https://c/prefix/hubs/sensors"],
            client.HubUrls.Select(u => u.ToString()));
        Assert.Equal(client.HubUrls[0], client.HubUrl);
    }

    /// <summary>Two Kestrel servers with one signing key; the first's hub can be made to answer <c>backend_unavailable</c>.</summary>
    private sealed class ServerPair : IAsyncDisposable
    {
        private ServerPair(SensorHubApplication first, SensorHubApplication second, BackendOutage outage)
        {
            First = first;
            Second = second;
            FirstOutage = outage;
        }

        public SensorHubApplication First { get; }

        public SensorHubApplication Second { get; }

        public BackendOutage FirstOutage { get; }

        public static async Task<ServerPair> StartAsync()
        {
            var outage = new BackendOutage();
            var first = new SensorHubApplication(Transport.Kestrel, SharedKey)
            {
                TestServices = services => services.Configure<HubOptions>(hub => hub.AddFilter(outage)),
            };
            var second = new SensorHubApplication(Transport.Kestrel, SharedKey);
            await Task.WhenAll(Task.Run(() => first.BaseUri), Task.Run(() => second.BaseUri));
            return new ServerPair(first, second, outage);
        }

        /// <summary>A client on both servers, the first first (or on the first alone), with a token from the first.</summary>
        public async Task<FailoverClient> ConnectAsync(Protocol protocol, bool onlyFirst = false)
        {
            var token = await First.GetTokenAsync(TestUser.Admin);
            var logs = new RecordingLoggerProvider();
            var loggerFactory = new LoggerFactory([logs]);
            var client = new SensorHubClient(new SensorHubClientOptions
            {
                ServerUrls = onlyFirst ? [First.BaseUri] : [First.BaseUri, Second.BaseUri],
                Protocol = protocol == Protocol.Json ? SensorHubProtocol.Json : SensorHubProtocol.MessagePack,
                AccessTokenProvider = () => Task.FromResult<string?>(token),
                ReconnectDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100)],
                LoggerFactory = loggerFactory,
            });
            var failover = new FailoverClient(client, logs, loggerFactory);
            await client.StartAsync().WaitAsync(Timeouts.Default);
            return failover;
        }

        public async ValueTask DisposeAsync()
        {
            await First.DisposeAsync();
            await Second.DisposeAsync();
            FirstOutage.Dispose();
        }
    }

    /// <summary>A client, what it logged and its connection changes.</summary>
    private sealed class FailoverClient : IAsyncDisposable
    {
        private readonly LoggerFactory _loggerFactory;
        private readonly List<ConnectionChange> _changes = [];
        private readonly CancellationTokenSource _stop = new(Timeouts.Default + Timeouts.Default);

        public FailoverClient(SensorHubClient client, RecordingLoggerProvider logs, LoggerFactory loggerFactory)
        {
            Client = client;
            Harness = new LogView(logs, () =>
            {
                lock (_changes)
                    return [.. _changes];
            });
            _loggerFactory = loggerFactory;
            client.ConnectionStateChanged += (_, e) =>
            {
                lock (_changes)
                    _changes.Add(e.Change);
            };
        }

        public SensorHubClient Client { get; }

        public LogView Harness { get; }

        public Subscription Subscribe(string sensorId, long from, int count) => new(this, sensorId, from, count, _stop.Token);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Client.DisposeAsync();
            _loggerFactory.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>An SDK subscription run in the background until it has <c>count</c> readings.</summary>
    private sealed class Subscription
    {
        private readonly List<Reading> _received = [];
        private readonly List<SequenceGap> _gaps = [];
        private readonly FailoverClient _client;
        private readonly Task _consumer;

        public Subscription(FailoverClient client, string sensorId, long from, int count, CancellationToken cancellationToken)
        {
            _client = client;
            _consumer = Task.Run(async () =>
            {
                var options = new SubscribeOptions { FromSequence = from };
                await foreach (var reading in client.Client.SubscribeAsync(sensorId, options, OnGap, cancellationToken))
                {
                    lock (_received)
                    {
                        _received.Add(reading);
                        if (_received.Count == count)
                            break;
                    }
                }
            }, cancellationToken);
        }

        public IReadOnlyList<SequenceGap> Gaps
        {
            get
            {
                lock (_gaps)
                    return [.. _gaps];
            }
        }

        private IReadOnlyList<Reading> Received
        {
            get
            {
                lock (_received)
                    return [.. _received];
            }
        }

        public Task WaitForAsync(int count) =>
            Timeouts.WaitUntilAsync(() => Received.Count >= count, Timeouts.Default, $"{count} readings");

        /// <summary>Waits for the subscription to end; a failure shows the client's log.</summary>
        public async Task<IReadOnlyList<Reading>> EndAsync()
        {
            try
            {
                await _consumer.WaitAsync(Timeouts.Default);
            }
#pragma warning disable CA1031 // Any way the subscription fails, the test fails with the client's log.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Assert.Fail($"The subscription did not end well: {ex.GetType().Name}: {ex.Message}\nThe client logged:\n{_client.Harness.DescribeLog()}");
            }
            return Received;
        }

        private void OnGap(SequenceGap gap)
        {
            lock (_gaps)
                _gaps.Add(gap);
        }
    }
}

/// <summary>A client's log and connection changes, for the waits of the failover tests.</summary>
internal sealed class LogView(RecordingLoggerProvider logs, Func<IReadOnlyList<ConnectionChange>> changes)
{
    public IReadOnlyList<ConnectionChange> Changes => changes();

    public int CountLogs(int eventId, Func<LogEntry, bool>? match = null) =>
        logs.Entries.Count(e => e.EventId == eventId && (match is null || match(e)));

    public async Task WaitForLogAsync(int eventId, string what, Func<LogEntry, bool>? match = null, int count = 1)
    {
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (CountLogs(eventId, match) < count)
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Not within {Timeouts.Default.TotalSeconds:0} s: {what}. The client logged:\n{DescribeLog()}");
            await Task.Delay(5);
        }
    }

    public string DescribeLog() => string.Join('\n', logs.Entries
        .Where(e => e.Category.StartsWith("SensorHub.", StringComparison.Ordinal) || e.Error is not null)
        .Select(e => $"{e.EventId} {e.Message}{(e.Error is null ? "" : $" [{e.Error.GetType().Name}: {e.Error.Message}]")}"));
}

/// <summary>The event ids of the SDK's failover log entries.</summary>
internal static class FailoverLogEvents
{
    public const int ServerUnreachable = 9012;
    public const int LeavingServer = 9013;
}

/// <summary>
/// The innermost hub filter of a server whose backend can be made to fail, as a node's does when it gives up on Redis:
/// while it is down, every live <c>Subscribe</c> stream ends with <c>backend_unavailable</c>, and new subscriptions
/// and <c>ListSensors</c> are refused with it at once. The connection stays up.
/// </summary>
internal sealed class BackendOutage : IHubFilter, IDisposable
{
    private readonly Lock _lock = new();
    private CancellationTokenSource _lost = new();
    private volatile bool _down;
    private int _streamsCut;

    /// <summary>How many live streams the outage ended.</summary>
    public int StreamsCut => Volatile.Read(ref _streamsCut);

    public void Begin()
    {
        CancellationTokenSource lost;
        lock (_lock)
        {
            _down = true;
            lost = _lost;
        }
        lost.Cancel();
    }

    public void End()
    {
        lock (_lock)
        {
            _down = false;
            _lost = new CancellationTokenSource();
        }
    }

    public void Dispose()
    {
        lock (_lock)
            _lost.Dispose();
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = invocationContext.HubMethodName;
        var affected = method is SensorHubMethods.Subscribe or SensorHubMethods.ListSensors;
        if (affected && _down)
            throw Unavailable();
        CancellationToken lost;
        lock (_lock)
            lost = _lost.Token;
        var result = await next(invocationContext);
        return result is IAsyncEnumerable<Reading> readings && method == SensorHubMethods.Subscribe ? CutWhenLost(readings, lost, default) : result;
    }

    private async IAsyncEnumerable<Reading> CutWhenLost(
        IAsyncEnumerable<Reading> readings, CancellationToken lost, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(lost, cancellationToken);
        var items = readings.GetAsyncEnumerator(both.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await items.MoveNextAsync();
                }
                catch (OperationCanceledException) when (lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    more = false;
                }
                if (!more)
                {
                    if (lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref _streamsCut);
                        throw Unavailable();
                    }
                    yield break;
                }
                yield return items.Current;
            }
        }
        finally
        {
            await items.DisposeAsync();
        }
    }

    private static SensorHubException Unavailable() =>
        new(SensorHubErrors.BackendUnavailable, "This node cannot reach Redis: the test's outage. Resume on another node or later.");
}
