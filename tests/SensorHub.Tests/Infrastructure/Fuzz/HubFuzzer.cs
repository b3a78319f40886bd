using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using Xunit.Abstractions;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// Runs the hub fuzz against one server: rounds of hostile connections (<see cref="FuzzConnection"/>) at once, and
/// after each round checks that every error they received was clear, that the server logged no fault, that it still
/// serves (a long-lived canary subscription and a fresh connection each receive a reading published after the round),
/// and that it holds nothing more than before (<see cref="ServerHoldings"/>). At the end the managed heap must not
/// have grown past <see cref="MaxHeapGrowth"/>. Rounds go on until the duration is over or
/// <see cref="FuzzSettings.MaxRounds"/> have run; the first failing round ends the run with its reproduction.
/// </summary>
internal sealed class HubFuzzer : IAsyncDisposable
{
    /// <summary>
    /// A generous bound on the managed heap's growth over a run, after a full compacting collection: a leak of a
    /// hundred kilobytes per connection passes it within a minute of fuzz (some 4,000 connections).
    /// </summary>
    /// <remarks>
    /// What a run legitimately adds levels off: over the test server under JSON at 200 to 270 MB within a minute (and
    /// no higher after three), under MessagePack and over Kestrel at about 100 MB. It is almost all on the large object
    /// heap: the process's shared buffer pools, grown by the large values the fuzz sends (and the server reads, escapes
    /// and echoes), and the test server's queued WebSocket messages, kept until SignalR's close timeout (5 s) lets a
    /// transport go. What the fuzz adds to the server itself is bounded: sensors of a bounded set with few readings,
    /// sessions within each user's cap, small upload records.
    /// </remarks>
    public const long MaxHeapGrowth = 400L * 1024 * 1024;

    /// <summary>A round that takes longer than this has a connection that hangs.</summary>
    private static readonly TimeSpan s_roundLimit = TimeSpan.FromSeconds(90);

    private readonly SensorHubApplication _app;
    private readonly ServerFaultLog _log;
    private readonly IReadOnlyList<Protocol> _protocols;
    private readonly ITestOutputHelper _output;
    private readonly Channel<Reading> _canaryReadings = Channel.CreateUnbounded<Reading>();
    private readonly CancellationTokenSource _canaryStop = new();
    private readonly Dictionary<string, int> _errorShapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _logShapes = new(StringComparer.Ordinal);
    private FuzzWorld? _world;
    private string _adminToken = "";
    private string _canarySensor = "";
    private TestConnection? _canary;
    private HttpClient? _stats;
    private Task? _canaryTask;

    private HubFuzzer(Transport transport, IReadOnlyList<Protocol> protocols, ITestOutputHelper output)
    {
        _protocols = protocols;
        _output = output;
        _log = new ServerFaultLog();
        var log = _log;
        _app = new SensorHubApplication(
            transport,
            new Dictionary<string, string?>
            {
                // Hostile clients make SignalR and Kestrel log errors by the hundred; the fuzz reads them through its own
                // logger (ServerFaultLog), the console need not show them.
                ["Logging:LogLevel:Default"] = "Critical",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Critical",
                // The fuzz does not test stopping: a connection the server closed for an error keeps its transport for
                // SignalR's close timeout (5 s), and the drain would wait for it when the test disposes the server.
                ["SensorHub:Hub:ShutdownDrainTimeout"] = "00:00:00.500",
            })
        {
            TestServices = services => log.AddTo(services),
        };
    }

    public static async Task<HubFuzzer> StartAsync(Transport transport, IReadOnlyList<Protocol> protocols, ITestOutputHelper output)
    {
        var fuzzer = new HubFuzzer(transport, protocols, output);
        await fuzzer.PrepareAsync();
        return fuzzer;
    }

    /// <summary>Runs rounds for <paramref name="duration"/> from <paramref name="seed"/>; fails the test at the first round that finds a fault.</summary>
    public async Task RunAsync(TimeSpan duration, int seed)
    {
        _output.WriteLine($"Hub fuzz over {_app.Transport} ({string.Join(", ", _protocols)}), seed {seed} ({FuzzSettings.SeedVariable}), {duration.TotalSeconds} s ({FuzzSettings.SecondsVariable}).");
        var seeds = new Random(seed);
        var baseline = await ServerHoldings.ReadAsync(_app, _stats!);
        long? heapBefore = null;
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        var connections = 0;
        for (; rounds < FuzzSettings.MaxRounds && clock.Elapsed < duration; rounds++)
        {
            var roundSeed = seeds.Next();
            connections += await RunRoundAsync(rounds, roundSeed, seed, baseline);
            // The first round warms up what is made once (JIT, pools, caches); growth is counted from after it.
            heapBefore ??= HeapAfterFullCollection();
        }

        var growth = HeapAfterFullCollection() - (heapBefore ?? 0);
        _output.WriteLine($"{rounds} rounds, {connections} connections; managed heap grew {growth / 1024.0 / 1024.0:0.0} MB.");
        foreach (var (shape, count) in _errorShapes.Concat(_logShapes).OrderByDescending(p => p.Value))
            _output.WriteLine($"{count,6} x {shape}");
        Assert.True(
            growth < MaxHeapGrowth,
            $"Seed {seed}: the managed heap grew {growth / 1024 / 1024} MB over {rounds} rounds, more than {MaxHeapGrowth / 1024 / 1024} MB.");
    }

    public async ValueTask DisposeAsync()
    {
        await _canaryStop.CancelAsync();
        if (_canaryTask is not null)
            await _canaryTask.ContinueWith(_ => { }, TaskScheduler.Default);
        if (_canary is not null)
            await _canary.DisposeAsync();
        _canaryStop.Dispose();
        _stats?.Dispose();
        await _app.DisposeAsync();
    }

    /// <returns>How many connections the round made.</returns>
    private async Task<int> RunRoundAsync(int round, int roundSeed, int seed, ServerHoldings baseline)
    {
        var random = new Random(roundSeed);
        var connections = Enumerable.Range(0, random.Next(1, 6))
            .Select(i => new FuzzConnection(_app, _protocols[random.Next(_protocols.Count)], _world!, random.Next(), $"round {round} connection {i}"))
            .ToList();
        var garbage = _app.Transport == Transport.Kestrel && random.Next(3) == 0 ? random.Next() : (int?)null;
        var failures = new List<string>();

        using var limit = new CancellationTokenSource(s_roundLimit);
        try
        {
            var runs = connections.Select(c => c.RunAsync(limit.Token)).ToList();
            if (garbage is { } garbageSeed)
                runs.Add(RawTcpGarbageAsync(garbageSeed, limit.Token));
            await Task.WhenAll(runs).WaitAsync(s_roundLimit + TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            failures.Add($"the round did not finish within {s_roundLimit.TotalSeconds} s: a connection hangs");
        }
        catch (Exception ex)
        {
            failures.Add($"a fuzz connection failed: {ex}");
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }

        foreach (var connection in connections)
        {
            foreach (var problem in connection.Problems)
                failures.Add($"{connection.Name}: {problem}");
            foreach (var error in connection.Errors)
            {
                CountShape(error);
                if (ErrorClarity.Problem(error.Source, error.Message, [.. connection.SentStreamErrors]) is { } problem)
                    failures.Add($"{connection.Name}: unclear {error.Source} error ({problem}): {error.Message}");
            }
        }

        try
        {
            await CheckStillServingAsync(round);
        }
        catch (Exception ex)
        {
            failures.Add($"the server no longer serves a well-behaved client: {ex.GetType().Name}: {ex.Message}");
        }
        if (await ServerHoldings.WaitForAsync(_app, _stats!, baseline) is { } held)
            failures.Add($"the server still holds {held} after every fuzz connection of the round went; before it held {baseline}");
        foreach (var entry in _log.Drain())
        {
            var kind = $"server log: {entry.Level} {entry.EventName} {entry.Exception?.GetType().Name}";
            _logShapes[kind] = _logShapes.GetValueOrDefault(kind) + 1;
            if (ServerFaultLog.Fault(entry) is { } fault)
                failures.Add($"{fault}: {entry}");
        }

        if (failures.Count > 0)
            Assert.Fail(Report(seed, round, roundSeed, failures, connections, garbage));
        return connections.Count;
    }

    private static string Report(int seed, int round, int roundSeed, List<string> failures, List<FuzzConnection> connections, int? garbage)
    {
        var report = new StringBuilder();
        report.AppendLine($"The hub fuzz found a fault in round {round} (round seed {roundSeed}); replay with {FuzzSettings.SeedVariable}={seed}.");
        foreach (var failure in failures.Distinct().Take(30))
            report.AppendLine($"- {failure}");
        report.AppendLine("What the round's connections sent:");
        foreach (var connection in connections)
        {
            report.AppendLine($"== {connection.Name}");
            report.AppendLine(connection.SentLog);
        }
        if (garbage is not null)
            report.AppendLine($"== raw TCP garbage, seed {garbage}");
        return report.ToString();
    }

    /// <summary>The long-lived canary stream and a fresh connection each receive a reading published now.</summary>
    private async Task CheckStillServingAsync(int round)
    {
        var published = await _app.Engine.PublishAsync(_canarySensor, round, DateTime.UtcNow, CancellationToken.None);
        var live = await _canaryReadings.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Default);
        Assert.Equal(published, live);

        await using var fresh = await _app.ConnectWithTokenAsync(_protocols[round % _protocols.Count], _adminToken);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var readings = await fresh.Hub.ReadReadingsAsync(_canarySensor, new SubscribeOptions { FromSequence = published.Sequence }, 1, cts.Token);
        Assert.Equal(published, Assert.Single(readings));
    }

    /// <summary>Sensors, a complete and an unfinished upload, a session: made by a well-behaved admin before the fuzz.</summary>
    private async Task PrepareAsync()
    {
        _adminToken = await _app.GetTokenAsync(TestUser.Admin);
        _stats = ServerHoldings.StatsClient(_app, _adminToken);
        string[] sensors = [$"{FuzzWorld.SensorPrefix}a", $"{FuzzWorld.SensorPrefix}b/c"];
        foreach (var sensor in sensors)
            await _app.Engine.PublishAsync(sensor, 3);

        await using (var admin = await _app.ConnectWithTokenAsync(_protocols[0], _adminToken))
        {
            var csv = Encoding.ASCII.GetBytes($"sensorId,timestamp,value\n{sensors[0]},{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()},1.5\n");
            var complete = await admin.Hub.InvokeAsync<UploadStatus>(
                SensorHubMethods.BeginUpload, new UploadRequest { Name = "complete.csv", ContentType = "text/csv", TotalBytes = csv.Length });
            await admin.Hub.InvokeAsync<UploadResult>(SensorHubMethods.Upload, complete.UploadId, 0L, new[] { csv }.ToAsyncEnumerable());
            var unfinished = await admin.Hub.InvokeAsync<UploadStatus>(
                SensorHubMethods.BeginUpload, new UploadRequest { Name = "unfinished.bin", ContentType = "application/octet-stream", TotalBytes = 1_000 });
            await admin.Hub.InvokeAsync<UploadResult>(SensorHubMethods.Upload, unfinished.UploadId, 0L, new[] { new byte[10] }.ToAsyncEnumerable());
            var session = await admin.Hub.InvokeAsync<SessionInfo>(
                SensorHubMethods.CreateSession, new CreateSessionRequest { Title = "fuzz world", SensorIds = [sensors[0]] });
            _world = new FuzzWorld(sensors, complete.UploadId, unfinished.UploadId, session.Id);
        }

        // The canary: a sensor the fuzz cannot name, and a subscription to it that lives through the whole run.
        _canarySensor = Sensors.NewId("canary");
        await _app.Engine.PublishAsync(_canarySensor, 1);
        _canary = await _app.ConnectWithTokenAsync(_protocols[0], _adminToken);
        var stream = _canary.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, _canarySensor, null, _canaryStop.Token);
        _canaryTask = Task.Run(async () =>
        {
            await foreach (var reading in stream)
                _canaryReadings.Writer.TryWrite(reading);
        });
        await Timeouts.WaitUntilAsync(() => Sensors.SubscribersOf(_app, _canarySensor) == 1, Timeouts.Default, "the canary subscribed");
    }

    /// <summary>Bytes on a bare TCP connection to Kestrel that are no WebSocket upgrade: garbage, half requests, lying lengths.</summary>
    private async Task RawTcpGarbageAsync(int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var hub = _app.HubUri;
        var request = random.Next(6) switch
        {
            0 => RandomBytes(random, random.Next(1, 2_000)),
            1 => Encoding.ASCII.GetBytes($"GET {hub.AbsolutePath} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
            2 => Encoding.ASCII.GetBytes($"POST {hub.AbsolutePath}/negotiate?negotiateVersion=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{{\"a\":"),
            3 => Encoding.ASCII.GetBytes($"GET {hub.AbsolutePath}?id=%ZZ&access_token=%ff HTTP/1.1\r\nHost: x\r\n{new string('X', 20_000)}: y\r\n\r\n"),
            4 => Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            _ => Encoding.ASCII.GetBytes($"GET {hub.AbsolutePath} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        };
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(hub.Host, hub.Port, cancellationToken);
            await socket.SendAsync(request, SocketFlags.None, cancellationToken);
            if (random.Next(2) == 0)
            {
                // Reads a little of the answer (a 400, most often), then goes.
                using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                read.CancelAfter(TimeSpan.FromMilliseconds(200));
                await socket.ReceiveAsync(new byte[4_096], SocketFlags.None, read.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            // Kestrel closed it first, as it may.
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private void CountShape(ReceivedError error)
    {
        // The shape of an error: its source and its words up to the first quote or code, which is what varies least.
        var cut = error.Message.IndexOfAny(['\'', '[']);
        var shape = $"{error.Source}: {(cut < 0 ? error.Message : error.Message[..cut] + "…")}";
        var code = SensorHubErrors.CodeOf(error.Message);
        if (code is not null)
            shape += $" [{code}]";
        _errorShapes[shape] = _errorShapes.GetValueOrDefault(shape) + 1;
    }

    /// <summary>
    /// The managed heap's live bytes: after a full, compacting collection of every generation, the large object heap
    /// included (else the holes left by the large messages the fuzz sends would count as growth).
    /// </summary>
    private static long HeapAfterFullCollection()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
