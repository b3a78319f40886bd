using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Redis.Failover;

/// <summary>
/// SDK clients given several nodes of one Redis cluster (real Kestrel nodes, real redis-server): when the node they
/// are on is killed mid-stream, every subscription resumes on another node from its last sequence, and since the nodes
/// share the sensors' numbering and history, with no gap and no duplicate.
/// </summary>
/// <remarks>Needs the Redis feed engine: on the in-memory engine each node has its own sensors and this fails.</remarks>
public sealed class NodeKillFailoverTests : IAsyncLifetime
{
    private const int Subscribers = 100;
    private const int BeforeKill = 20;
    private const int Total = 200;

    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task ANodeKilledMidStreamWith100SdkSubscribersEverySubscriberResumesOnAnotherNodeWithNoGapAndNoDuplicate()
    {
        await using var cluster = new RedisNodes(_redis, Transport.Kestrel);
        var started = await Task.WhenAll(cluster.StartNodeAsync(), cluster.StartNodeAsync(), cluster.StartNodeAsync());
        var (doomed, other, publisher) = (started[0], started[1], started[2]);
        var sensorId = Sensors.NewId("failover");
        var published = await publisher.Engine.PublishAsync(sensorId, BeforeKill);
        var token = await doomed.GetTokenAsync(TestUser.Admin);
        using var stop = new CancellationTokenSource(Timeouts.Default * 4);

        // Every client starts on the node that will die; half fail over to the other node, half to the publisher's.
        var subscribers = new List<Subscriber>();
        try
        {
            for (var i = 0; i < Subscribers; i++)
            {
                var next = i % 2 == 0 ? other : publisher;
                subscribers.Add(await Subscriber.StartAsync(
                    [doomed.BaseUri, next.BaseUri], token, i % 2 == 0 ? SensorHubProtocol.MessagePack : SensorHubProtocol.Json,
                    sensorId, published[0].Sequence, stop.Token));
            }
            await Timeouts.WaitUntilAsync(
                () => subscribers.All(s => s.Count == BeforeKill) || subscribers.Any(s => s.Failed is not null),
                Timeouts.Default * 2, $"all {Subscribers} subscribers have the first {BeforeKill} readings");
            Assert.All(subscribers, s => Assert.Null(s.Failed));

            // The device goes on publishing (on a node that lives) while the node under the subscribers dies.
            var publishing = Task.Run(async () =>
            {
                var more = new List<Reading>();
                for (var i = BeforeKill; i < Total; i++)
                {
                    more.Add(await publisher.Engine.PublishAsync(sensorId, i, DateTime.UtcNow, CancellationToken.None));
                    await Task.Delay(5);
                }
                return more;
            });
            await Task.Delay(50);
            var doomedPort = doomed.BaseUri.Port;
            await cluster.KillAsync(doomed);
            published.AddRange(await publishing.WaitAsync(Timeouts.Default * 2));

            var last = published[^1].Sequence;
            await Timeouts.WaitUntilAsync(
                () => subscribers.All(s => s.Last >= last || s.Failed is not null), Timeouts.Default * 2,
                $"every subscriber reached sequence {last}: {Describe(subscribers, last)}");

            Sensors.AssertConsecutive(published);
            foreach (var subscriber in subscribers)
            {
                Assert.Null(subscriber.Failed);
                Assert.Equal(published.Select(r => r.Sequence), subscriber.Received.Select(r => r.Sequence));
                Assert.Empty(subscriber.Gaps);
                Assert.NotEqual(doomedPort, subscriber.Client.HubUrl.Port);
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var subscriber in subscribers)
                await subscriber.DisposeAsync();
        }
    }

    private static string Describe(List<Subscriber> subscribers, long last)
    {
        var behind = subscribers.Where(s => s.Last < last).ToList();
        return $"{behind.Count} behind; " + string.Join("; ", behind.Take(5).Select(s => $"at {s.Last} on {s.Client.HubUrl} ({s.Client.State}), {s.Failed?.Message}"));
    }

    /// <summary>One SDK client with one subscription, read in the background.</summary>
    private sealed class Subscriber : IAsyncDisposable
    {
        private readonly List<Reading> _received = [];
        private readonly List<SequenceGap> _gaps = [];
        private Task _consumer = Task.CompletedTask;

        private Subscriber(SensorHubClient client) => Client = client;

        public SensorHubClient Client { get; }

        public Exception? Failed { get; private set; }

        public int Count
        {
            get
            {
                lock (_received)
                    return _received.Count;
            }
        }

        public long Last
        {
            get
            {
                lock (_received)
                    return _received.Count == 0 ? 0 : _received[^1].Sequence;
            }
        }

        public IReadOnlyList<Reading> Received
        {
            get
            {
                lock (_received)
                    return [.. _received];
            }
        }

        public IReadOnlyList<SequenceGap> Gaps
        {
            get
            {
                lock (_gaps)
                    return [.. _gaps];
            }
        }

        public static async Task<Subscriber> StartAsync(
            Uri[] servers, string token, SensorHubProtocol protocol, string sensorId, long from, CancellationToken cancellationToken)
        {
            var client = new SensorHubClient(new SensorHubClientOptions
            {
                ServerUrls = servers,
                Protocol = protocol,
                AccessTokenProvider = () => Task.FromResult<string?>(token),
                ReconnectDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250)],
                LoggerFactory = NullLoggerFactory.Instance,
            });
            var subscriber = new Subscriber(client);
            await client.StartAsync(cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
            subscriber._consumer = Task.Run(() => subscriber.ConsumeAsync(sensorId, from, cancellationToken), cancellationToken);
            return subscriber;
        }

        private async Task ConsumeAsync(string sensorId, long from, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var reading in Client.SubscribeAsync(sensorId, new SubscribeOptions { FromSequence = from }, OnGap, cancellationToken))
                {
                    lock (_received)
                        _received.Add(reading);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // Kept for the assertion, which names it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Failed = ex;
            }
        }

        private void OnGap(SequenceGap gap)
        {
            lock (_gaps)
                _gaps.Add(gap);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await _consumer.WaitAsync(Timeouts.Default).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
