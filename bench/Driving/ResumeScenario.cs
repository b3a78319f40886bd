using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Bench.Driving;

/// <summary>
/// A node killed under its subscribers: N SDK clients (<see cref="SensorHubClient"/>, one connection and one
/// subscription each, from the sensor's first reading) on node 1, a device publishing on the last node; node 1's
/// process is killed (SIGKILL) mid-stream, and each client resumes by itself on another node (the clients' list
/// of nodes: node 1, then the others, half of them in each order). Measured: how long each client took from the
/// kill to its first reading on its new connection, and, once the device has stopped and everything arrived, the
/// readings each client missed or got twice against every sequence the sensor issued.
/// </summary>
internal static class ResumeScenario
{
    public const string Missing = "readings missing";
    public const string Duplicated = "readings duplicated";
    public const string Resumed = "subscribers resumed";
    public const string Subscribers = "subscribers";
    public const string HadReadings = "had readings before the kill";
    public const string MissingOfLive = "readings missing, subscriptions that did not fail";

    /// <param name="cluster">Its node 1 is killed; the others must be up.</param>
    /// <param name="subscribers">SDK clients on node 1.</param>
    /// <param name="rate">The device's readings per second.</param>
    /// <param name="beforeKill">How long the device publishes before the kill.</param>
    /// <param name="resumeWait">How long the clients have to resume (and, after the device stops, to receive the rest).</param>
    /// <returns>The figures, and what the subscriptions that failed said (the commonest messages), if any failed.</returns>
    public static async Task<(Measure Measure, string? Failures)> RunAsync(RedisCluster cluster, int subscribers, double rate, TimeSpan beforeKill, TimeSpan resumeWait)
    {
        var nodes = cluster.Nodes;
        if (nodes.Count < 2)
            throw new InvalidOperationException("killing a node needs at least 2 nodes");
        var home = nodes[0];
        var deviceNode = nodes[^1];
        var sensor = Clients.NewSensor("resume");
        await cluster.RegisterSensorAsync(sensor);

        var streamsBefore = await home.ActiveStreamsAsync();
        var clients = new SdkSubscriber[subscribers];
        using var stop = new CancellationTokenSource();
        try
        {
            using (var gate = new SemaphoreSlim(32))
            {
                await Task.WhenAll(Enumerable.Range(0, subscribers).Select(async i =>
                {
                    // Node 1 first, then the others: half of the clients go on to node 2 first, half to the last.
                    var others = nodes.Skip(1).ToList();
                    if (i % 2 == 1)
                        others.Reverse();
                    await gate.WaitAsync();
                    try
                    {
                        clients[i] = await SdkSubscriber.StartAsync([home.BaseUri, .. others.Select(n => n.BaseUri)], sensor, stop.Token);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }
            await Clients.WaitForStreamsAsync(home, streamsBefore + subscribers, TimeSpan.FromSeconds(60));

            var token = await deviceNode.DevTokenAsync(Roles.Device);
            await using var device = await Device.LaunchAsync(deviceNode, sensor, rate, batch: 1, TimeSpan.FromMinutes(5), token);
            await device.GoAsync();
            await Task.Delay(beforeKill);
            var hadReadings = clients.Count(c => c.Received > 0);

            var killedAt = Stopwatch.GetTimestamp();
            await home.KillAsync();
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < resumeWait && clients.Any(c => c.ResumedAt is null))
                await Task.Delay(20);
            var resumeSeconds = clients.Where(c => c.ResumedAt is not null)
                .Select(c => Stopwatch.GetElapsedTime(killedAt, c.ResumedAt!.Value).TotalSeconds).Order().ToArray();
            var reconnectSeconds = clients.Where(c => c.ReconnectedAt is not null)
                .Select(c => Stopwatch.GetElapsedTime(killedAt, c.ReconnectedAt!.Value).TotalSeconds).Order().ToArray();

            // A moment of readings after the last resumed, then every reading the sensor issued should arrive.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var sent = await device.StopAsync(TimeSpan.FromSeconds(30));
            var last = await LastSequenceAsync(deviceNode, sensor);
            // The device's one reading before `go`, then what it accepted: the sensor's sequences end at `last`.
            var first = last - sent.Accepted;
            var settle = Stopwatch.StartNew();
            while (settle.Elapsed < resumeWait && clients.Any(c => c.LastSequence < last))
                await Task.Delay(20);

            long missing = 0, missingOfLive = 0, duplicated = 0, outside = 0, gaps = 0, failed = 0;
            foreach (var client in clients)
            {
                var (m, d, o) = client.Count(first, last);
                missing += m;
                missingOfLive += client.Failure is null ? m : 0;
                duplicated += d;
                outside += o;
                gaps += client.GapReadings;
                failed += client.Failure is null ? 0 : 1;
            }
            // What the failed subscriptions said, commonest first: one line for the report.
            // The node each client's connection went to last is the node that failed it.
            var failedOn = clients.Where(c => c.Failure is not null).GroupBy(c => nodes.FirstOrDefault(n => n.BaseUri == c.Node)?.Name ?? "no node")
                .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} on {g.Key}");
            var failures = failed == 0 ? null : $"{failed} of {subscribers} SDK subscriptions ended with an error instead of resuming ({string.Join(", ", failedOn)}): " + string.Join("; ",
                clients.Select(c => c.Failure).OfType<Exception>().GroupBy(f => $"{f.GetType().Name}: {f.Message.TrimEnd('.')}")
                    .OrderByDescending(g => g.Count()).Take(3).Select(g => $"{g.Count()} × {g.Key}"));
            if (failures is not null)
                Console.Error.WriteLine($"resume: {failures}");
            return (Measure.Of(
                (Subscribers, subscribers),
                (HadReadings, hadReadings),
                (Resumed, resumeSeconds.Length),
                ("reconnected", reconnectSeconds.Length),
                ("reconnect p50 s", Percentile(reconnectSeconds, 50)),
                ("resume p50 s", Percentile(resumeSeconds, 50)),
                ("resume p99 s", Percentile(resumeSeconds, 99)),
                ("all resumed s", resumeSeconds.Length == subscribers ? resumeSeconds[^1] : double.NaN),
                ("readings per subscriber", last - first + 1),
                (Missing, missing),
                (MissingOfLive, missingOfLive),
                (Duplicated, duplicated),
                ("readings outside the sensor's sequences", outside),
                ("readings reported as gaps by the SDK", gaps),
                ("subscriptions failed", failed),
                ("device sent/s", sent.Sent / sent.Seconds)), failures);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients.OfType<SdkSubscriber>().Select(c => c.DisposeAsync().AsTask()));
        }
    }

    /// <summary>The sensor's newest sequence, as a node on Redis lists it.</summary>
    private static async Task<long> LastSequenceAsync(BenchTarget node, string sensor)
    {
        await using var client = new SensorHubClient(new SensorHubClientOptions { Url = node.BaseUri });
        await client.StartAsync();
        var sensors = await client.ListSensorsAsync(sensor);
        return sensors.FirstOrDefault(s => s.Id == sensor)?.LastSequence
               ?? throw new InvalidOperationException($"{node.Name} does not list {sensor}");
    }

    private static double Percentile(double[] sorted, double percentile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>
    /// One SDK client and its one subscription: every sequence it received, when its connection came back, and when
    /// its first reading after that arrived.
    /// </summary>
    private sealed class SdkSubscriber : IAsyncDisposable
    {
        private readonly SensorHubClient _client;
        private readonly List<long> _sequences = new(1024);
        private readonly Lock _gate = new();
        private Task _consumer = Task.CompletedTask;
        private long? _reconnectedAt;
        private long? _resumedAt;
        private long _lastSequence;
        private long _gapReadings;

        private SdkSubscriber(SensorHubClient client) => _client = client;

        public long? ReconnectedAt
        {
            get { lock (_gate) return _reconnectedAt; }
        }

        /// <summary>When the first reading after the reconnection arrived.</summary>
        public long? ResumedAt
        {
            get { lock (_gate) return _resumedAt; }
        }

        public long LastSequence => Interlocked.Read(ref _lastSequence);

        public int Received
        {
            get { lock (_gate) return _sequences.Count; }
        }

        /// <summary>Readings the SDK said it cannot deliver (the spans of its gaps).</summary>
        public long GapReadings => Interlocked.Read(ref _gapReadings);

        public Exception? Failure { get; private set; }

        /// <summary>The node its connection went to last (its base address).</summary>
        public Uri Node => new(_client.HubUrl, "/");

        /// <summary>
        /// Connects to the first of <paramref name="nodes"/> (the SDK's <c>ServerUrls</c>: WebSockets, negotiation
        /// skipped, MessagePack; anonymous, as the bench servers allow) and subscribes from the sensor's oldest reading.
        /// The SDK fails over by itself: node 1 while it lives, the next once it is dead.
        /// </summary>
        public static async Task<SdkSubscriber> StartAsync(Uri[] nodes, string sensor, CancellationToken cancellationToken)
        {
            var client = new SensorHubClient(new SensorHubClientOptions { ServerUrls = nodes });
            var subscriber = new SdkSubscriber(client);
            client.ConnectionStateChanged += (_, e) =>
            {
                if (e.Change == ConnectionChange.Reconnected)
                {
                    lock (subscriber._gate)
                        subscriber._reconnectedAt ??= Stopwatch.GetTimestamp();
                }
            };
            try
            {
                await client.StartAsync(cancellationToken);
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
            subscriber._consumer = Task.Run(() => subscriber.ConsumeAsync(sensor, cancellationToken), CancellationToken.None);
            return subscriber;
        }

        private async Task ConsumeAsync(string sensor, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var reading in _client.SubscribeAsync(sensor, new SubscribeOptions { FromSequence = 0 },
                                   gap => Interlocked.Add(ref _gapReadings, gap.Count ?? 0), cancellationToken))
                {
                    lock (_gate)
                    {
                        _sequences.Add(reading.Sequence);
                        if (_reconnectedAt is not null)
                            _resumedAt ??= Stopwatch.GetTimestamp();
                    }
                    Interlocked.Exchange(ref _lastSequence, reading.Sequence);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Failure = ex;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        /// <summary>Of the sequences <paramref name="first"/> to <paramref name="last"/>: how many never arrived, how many arrived more than once, and how many arrivals were outside them.</summary>
        public (long Missing, long Duplicated, long Outside) Count(long first, long last)
        {
            lock (_gate)
            {
                var seen = new HashSet<long>(_sequences.Count);
                long duplicated = 0, outside = 0;
                foreach (var sequence in _sequences)
                {
                    if (sequence < first || sequence > last)
                        outside++;
                    else if (!seen.Add(sequence))
                        duplicated++;
                }
                return (last - first + 1 - seen.Count, duplicated, outside);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _consumer.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
