using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

/// <summary>What a device process said when it was done: readings sent and what the server made of them.</summary>
/// <param name="Seconds">From its first reading to its last.</param>
/// <param name="ResultSeconds">From the stream's start to the server's answer: every reading it accepted was published by then.</param>
internal sealed record DeviceResult(long Sent, long Accepted, long Rejected, double Seconds, double ResultSeconds);

/// <summary>
/// <c>device --hub URL --sensor ID --rate R --batch B --seconds T [--token TOKEN] [--protocol json|messagepack]</c>:
/// a device in a process of its own, publishing the way a device does, through the hub's client-to-server stream:
/// <c>Publish</c> (one reading per item) when B is 1, <c>PublishBatches</c> (up to B readings per item) when B is more.
/// It connects (WebSockets, MessagePack unless told otherwise), prints <c>connected</c>, waits for the line <c>go</c>,
/// then streams for T seconds: R readings a second spread over 1 ms ticks, or with R 0 as fast as the server takes
/// them (the send awaits SignalR's flush, which is the backpressure). Each reading's value is its
/// <see cref="Stopwatch.GetTimestamp"/> when the client takes it to send, so a subscriber can tell its latency. It
/// then completes the stream and prints <c>done {"sent":N,"accepted":A,"rejected":J,"seconds":S,"resultSeconds":Q}</c>. Its standard
/// input closing ends the stream early (it still prints <c>done</c>).
/// </summary>
internal static class Device
{
    public const string Connected = "connected";
    public const string Go = "go";
    public const string DonePrefix = "done ";

    /// <summary>Readings taken before the device yields its thread when it runs flat out, as the in-server publisher does.</summary>
    private const int YieldEvery = 64;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The <c>device</c> mode itself: returns the process's exit code (2 for bad arguments, 1 when the stream failed).</summary>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> options)
    {
        if (options.ContainsKey("--mqtt"))
            return await MqttDevice.RunAsync(options);
        if (!options.TryGetValue("--hub", out var hub) || !options.TryGetValue("--sensor", out var sensor)
            || !TryNumber(options, "--rate", out var rate) || !TryNumber(options, "--batch", out var batch) || batch < 1
            || !TryNumber(options, "--seconds", out var seconds) || !Enum.TryParse<Protocol>(options.GetValueOrDefault("--protocol", "messagepack"), ignoreCase: true, out var protocol))
        {
            await Console.Error.WriteLineAsync("usage: SensorHub.Bench device --hub URL --sensor ID --rate R --batch B --seconds T [--token TOKEN] [--protocol json|messagepack]");
            return 2;
        }
        await using var connection = await BenchTarget.ConnectAsync(new Uri(hub), protocol, options.GetValueOrDefault("--token"), CancellationToken.None);
        // The first stream pays for compiling the client's and the server's streaming and serialization code (0.3 s and
        // more here): one reading goes first, so that the timed stream starts at full speed. Subscribers already
        // listening get it before anything is recorded.
        await PublishAsync(connection, (int)batch, sensor, new Pacer(0, 1, TimeSpan.MaxValue, limit: 1), CancellationToken.None);
        Console.WriteLine(Connected);
        if (await Console.In.ReadLineAsync() != Go)
            return 0;
        using var stop = new CancellationTokenSource();
        CancelOnStdinClose(stop);

        var pacer = new Pacer(rate, (int)batch, TimeSpan.FromSeconds(seconds));
        PublishResult result;
        var toResult = Stopwatch.StartNew();
        try
        {
            result = await PublishAsync(connection, (int)batch, sensor, pacer, stop.Token);
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"device: the stream failed after {pacer.Sent} readings: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        var done = new DeviceResult(pacer.Sent, result.Accepted, result.Rejected, pacer.Elapsed.TotalSeconds, toResult.Elapsed.TotalSeconds);
        Console.WriteLine(DonePrefix + JsonSerializer.Serialize(done, s_json));
        return 0;
    }

    /// <summary>
    /// Stdin closing is the driver's way to stop a device early, or the driver died: either way its stream ends. Console
    /// reads block, so a thread of its own waits for it rather than one of the pool's few.
    /// </summary>
    internal static void CancelOnStdinClose(CancellationTokenSource stop) =>
        new Thread(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream had ended already.
            }
        }) { IsBackground = true, Name = "stdin" }.Start();

    /// <summary>One stream: <c>Publish</c> when <paramref name="batch"/> is 1, else <c>PublishBatches</c>; ends when the pacer does.</summary>
    private static Task<PublishResult> PublishAsync(HubConnection connection, int batch, string sensor, Pacer pacer, CancellationToken cancellationToken) =>
        batch == 1
            ? connection.InvokeAsync<PublishResult>(SensorHubMethods.Publish, OneByOne(pacer, sensor, cancellationToken), CancellationToken.None)
            : connection.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, Batches(pacer, sensor, cancellationToken), CancellationToken.None);

    /// <summary>Starts a device process of this same program; it is connected once this returns.</summary>
    public static Task<DeviceProcess> LaunchAsync(
        BenchTarget target, string sensorId, double ratePerSecond, int batch, TimeSpan stopAfter, string? token)
    {
        var args = new List<string>
        {
            "device", "--hub", target.HubUri.ToString(), "--sensor", sensorId,
            "--rate", ratePerSecond.ToString(CultureInfo.InvariantCulture), "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--seconds", stopAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (token is not null)
            args.AddRange(["--token", token]);
        return LaunchAsync(args);
    }

    /// <summary>Starts a device process of this same program with <paramref name="args"/>; it is connected once this returns.</summary>
    internal static async Task<DeviceProcess> LaunchAsync(IReadOnlyList<string> args)
    {
        var process = ChildProcess.StartSelf("device", args);
        try
        {
            await process.ReadLineAsync(line => line == Connected, TimeSpan.FromSeconds(60));
            return new DeviceProcess(process);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public static DeviceResult ParseDone(string line) =>
        JsonSerializer.Deserialize<DeviceResult>(line[DonePrefix.Length..], s_json)
        ?? throw new InvalidOperationException($"the device printed '{line}'");

    private static async IAsyncEnumerable<ReadingInput> OneByOne(Pacer pacer, string sensor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var due in pacer.DueAsync(cancellationToken))
        {
            for (var i = 0; i < due; i++)
            {
                // Taken when the client takes the item to send: latency starts at the device's send.
                yield return new ReadingInput { SensorId = sensor, Value = Stopwatch.GetTimestamp() };
            }
        }
    }

    private static async IAsyncEnumerable<ReadingInput[]> Batches(Pacer pacer, string sensor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var due in pacer.DueAsync(cancellationToken))
        {
            var batch = new ReadingInput[due];
            for (var i = 0; i < due; i++)
                batch[i] = new ReadingInput { SensorId = sensor, Value = Stopwatch.GetTimestamp() };
            yield return batch;
        }
    }

    internal static bool TryNumber(IReadOnlyDictionary<string, string> options, string name, out double value)
    {
        value = 0;
        return options.TryGetValue(name, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value >= 0;
    }

    /// <summary>
    /// How many readings to send now, item by item (each at most the batch size). With a rate, readings are due evenly
    /// over the run and checked every 1 ms tick: a tick's item holds what is due in that tick, so at a low rate a batch
    /// is one reading and batching adds no delay. Flat out, every item is a full batch.
    /// </summary>
    internal sealed class Pacer(double ratePerSecond, int batch, TimeSpan duration, long limit = long.MaxValue)
    {
        private readonly Stopwatch _clock = new();

        /// <summary>Readings handed out and taken: an item counts once the stream asks for the next one.</summary>
        public long Sent { get; private set; }

        /// <summary>From the first item asked for to the end of the stream.</summary>
        public TimeSpan Elapsed => _clock.Elapsed;

        public async IAsyncEnumerable<int> DueAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            _clock.Start();
            long sinceYield = 0;
            while (!cancellationToken.IsCancellationRequested && _clock.Elapsed < duration && Sent < limit)
            {
                if (ratePerSecond <= 0)
                {
                    yield return batch;
                    Sent += batch;
                    sinceYield += batch;
                    if (sinceYield >= YieldEvery)
                    {
                        sinceYield = 0;
                        await Task.Yield();
                    }
                    continue;
                }
                var due = (long)(_clock.Elapsed.TotalSeconds * ratePerSecond);
                while (Sent < due)
                {
                    var count = (int)Math.Min(batch, due - Sent);
                    yield return count;
                    Sent += count;
                }
                await Task.Delay(1, CancellationToken.None);
            }
            _clock.Stop();
        }
    }
}

/// <summary>A device process the driver started: told to go, then stopped, and asked what it sent.</summary>
internal sealed class DeviceProcess(ChildProcess process) : IAsyncDisposable
{
    public Task GoAsync() => process.WriteLineAsync(Device.Go);

    /// <summary>Ends its stream (it closes its stdin) and waits for its <c>done</c> line.</summary>
    public async Task<DeviceResult> StopAsync(TimeSpan timeout)
    {
        var stopping = process.StopAsync(timeout);
        var line = await process.ReadLineAsync(l => l.StartsWith(Device.DonePrefix, StringComparison.Ordinal), timeout);
        await stopping;
        return Device.ParseDone(line);
    }

    /// <summary>Waits for it to finish its run by itself and print its <c>done</c> line.</summary>
    public async Task<DeviceResult> WaitDoneAsync(TimeSpan timeout) =>
        Device.ParseDone(await process.ReadLineAsync(l => l.StartsWith(Device.DonePrefix, StringComparison.Ordinal), timeout));

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
