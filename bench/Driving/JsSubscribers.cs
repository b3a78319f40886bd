using System.Diagnostics;
using System.Text.Json;

namespace SensorHub.Bench.Driving;

/// <summary>
/// N subscribers on the official JavaScript client: <c>node bench/js/loadgen.mjs '&lt;json&gt;'</c> in a process of its
/// own (its contract: /bench/README.md), connecting the way the dashboard does: WebSockets after negotiation, with a
/// token from the access-token factory when given. It records latency itself (on the same monotonic clock as the
/// device) and reports its own CPU; this class speaks its line protocol (<c>ready</c>; <c>start</c>, <c>stop</c>,
/// <c>result</c>).
/// </summary>
internal sealed class JsSubscribers : ISubscribers
{
    private const int Concurrency = 32;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly ChildProcess _process;

    private JsSubscribers(ChildProcess process) => _process = process;

    private static string Folder => Path.Combine(BenchProgram.BenchFolder(), "js");

    /// <summary>Why the JavaScript load generator cannot run here, and what to do about it; <see langword="null"/> when it can.</summary>
    public static string? MissingPrerequisite()
    {
        if (!File.Exists(Path.Combine(Folder, "loadgen.mjs")))
            return $"the JavaScript load generator {Path.Combine(Folder, "loadgen.mjs")} is missing";
        if (!Directory.Exists(Path.Combine(Folder, "node_modules", "@microsoft", "signalr")))
            return $"{Path.Combine(Folder, "node_modules")} is missing or incomplete: run `npm ci` in bench/js (./test.sh does)";
        try
        {
            using var node = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            if (node is null || !node.WaitForExit(30_000) || node.ExitCode != 0)
                return "`node --version` failed: Node.js 20 is needed for the JavaScript load generator";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "`node` is not on the PATH: Node.js 20 is needed for the JavaScript load generator (apt-get install nodejs)";
        }
        return null;
    }

    /// <summary>
    /// Starts the load generator with <paramref name="count"/> connections, each subscribed to <paramref name="sensorId"/>
    /// through <paramref name="method"/> (the baseline: its one stream, whatever the method), and returns once it is
    /// ready and the server counts every stream.
    /// </summary>
    public static async Task<JsSubscribers> StartAsync(BenchTarget target, int count, Protocol protocol, string method, string sensorId, string? token)
    {
        var streamsBefore = await target.ActiveStreamsAsync();
        var load = new
        {
            url = target.HubUri.ToString(),
            connections = count,
            protocol = protocol == Protocol.MessagePack ? "messagepack" : "json",
            method = target.IsBaseline ? "Subscribe" : method,
            args = target.IsBaseline ? new object?[] { sensorId } : [sensorId, null],
            token,
            skipNegotiation = false,
            timestampFrequency = Stopwatch.Frequency,
            concurrency = Concurrency,
        };
        var process = ChildProcess.Start("js load generator", "node", [Path.Combine(Folder, "loadgen.mjs"), JsonSerializer.Serialize(load, s_json)]);
        var subscribers = new JsSubscribers(process);
        try
        {
            // Connecting thousands of clients with negotiation on 2 cores shared with the server takes a while.
            await subscribers.ReadEventAsync("ready", TimeSpan.FromSeconds(60 + count / 20.0));
            await Clients.WaitForStreamsAsync(target, streamsBefore + count, TimeSpan.FromSeconds(60));
            return subscribers;
        }
        catch
        {
            await subscribers.DisposeAsync();
            throw;
        }
    }

    public Task StartAsync(long from, long to) => _process.WriteLineAsync(FormattableString.Invariant($"start {from} {to}"));

    /// <exception cref="InvalidOperationException">A stream failed while it ran.</exception>
    public async Task<Delivery> StopAsync()
    {
        await _process.WriteLineAsync("stop");
        var result = await ReadEventAsync("result", TimeSpan.FromSeconds(60));
        if (result.GetProperty("errors").GetInt64() is var errors and > 0)
            throw new InvalidOperationException($"{errors} JavaScript stream(s) failed; the first: {result.GetProperty("firstError")}");
        var delivered = result.GetProperty("delivered").GetInt64();
        // It reports percentiles of 0 when nothing arrived: no latency, as the .NET side reports it.
        double Ms(string name) => delivered == 0 ? double.NaN : result.GetProperty(name).GetDouble();
        return new Delivery(
            delivered, result.GetProperty("seconds").GetDouble(), Ms("p50"), Ms("p99"), Ms("p999"), result.GetProperty("cpuSeconds").GetDouble(),
            result.GetProperty("missed").GetInt64());
    }

    /// <summary>Closes its stdin, which stops every stream and connection, and waits for it to exit (closing 1,000 busy connections takes seconds).</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>Reads its output up to the event named; lines that are not JSON events are skipped.</summary>
    /// <exception cref="InvalidOperationException">It reported a fatal error, or exited.</exception>
    private async Task<JsonElement> ReadEventAsync(string name, TimeSpan timeout)
    {
        var line = await _process.ReadLineAsync(l => Event(l) is { } e && (e.Name == name || e.Name == "error"), timeout);
        var (kind, message) = Event(line)!.Value;
        return kind == name ? message : throw new InvalidOperationException($"the js load generator failed: {message.GetProperty("message")}");
    }

    private static (string Name, JsonElement Message)? Event(string line)
    {
        if (!line.StartsWith('{'))
            return null;
        try
        {
            var message = JsonSerializer.Deserialize<JsonElement>(line);
            return message.TryGetProperty("event", out var e) && e.GetString() is { } name ? (name, message) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
