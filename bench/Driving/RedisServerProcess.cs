using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace SensorHub.Bench.Driving;

/// <summary>What Redis had done by one moment: its CPU time and, per command, its calls and the time spent in them.</summary>
/// <param name="CpuSeconds"><c>INFO cpu</c>: <c>used_cpu_sys</c> + <c>used_cpu_user</c> (the main thread and the others).</param>
/// <param name="Commands"><c>INFO commandstats</c>, by command name (lower case, e.g. <c>evalsha</c>, <c>xrange</c>).</param>
internal sealed record RedisSample(long Timestamp, double CpuSeconds, IReadOnlyDictionary<string, (long Calls, long Micros)> Commands)
{
    /// <summary>
    /// The bench's own commands (its <c>INFO</c>, the connection's handshake), left out of what SensorHub cost Redis.
    /// </summary>
    private static readonly HashSet<string> s_own = new(StringComparer.Ordinal) { "info", "config|get", "config", "client|setname", "client|setinfo", "hello" };

    /// <summary>What Redis did between <paramref name="before"/> and this sample, command by command, the bench's own left out.</summary>
    public IReadOnlyDictionary<string, (long Calls, long Micros)> CommandsSince(RedisSample before) =>
        Commands.Where(c => !s_own.Contains(c.Key))
            .Select(c => (c.Key, Calls: c.Value.Calls - before.Commands.GetValueOrDefault(c.Key).Calls, Micros: c.Value.Micros - before.Commands.GetValueOrDefault(c.Key).Micros))
            .Where(c => c.Calls > 0)
            .ToDictionary(c => c.Key, c => (c.Calls, c.Micros), StringComparer.Ordinal);

    public double SecondsSince(RedisSample before) => (double)(Timestamp - before.Timestamp) / Stopwatch.Frequency;
}

/// <summary>
/// A <c>redis-server</c> of the bench's own (Debian's) on a free loopback port, in a temporary folder of its own,
/// without persistence (<c>--save '' --appendonly no</c>), stopped by its pid; the nodes of the Redis mode share it.
/// The driver reads its <c>INFO cpu</c> and <c>INFO commandstats</c> around a run to tell what SensorHub cost it.
/// </summary>
internal sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly Queue<string> _tail = new();
    private ConnectionMultiplexer? _admin;

    private RedisServerProcess(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    /// <summary>What <c>SensorHub:Redis:Configuration</c> takes to reach it.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Why a redis-server cannot be started here; <see langword="null"/> when it can.</summary>
    public static string? MissingPrerequisite()
    {
        try
        {
            using var version = Process.Start(new ProcessStartInfo("redis-server", "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            if (version is null || !version.WaitForExit(30_000) || version.ExitCode != 0)
                return "`redis-server --version` failed";
            return null;
        }
        catch (Win32Exception)
        {
            return "`redis-server` is not on the PATH (apt-get install redis-server; ./test.sh installs it)";
        }
    }

    /// <summary>Starts one and returns once it answers <c>PING</c>.</summary>
    public static async Task<RedisServerProcess> StartAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sensorhub-bench-redis-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var port = FreePort();
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        // '' reaches redis-server as an empty argument through ArgumentList (no persistence at all).
        foreach (var argument in new[]
                 {
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--protected-mode", "no",
                     "--save", "", "--appendonly", "no", "--dir", folder, "--daemonize", "no", "--loglevel", "warning",
                 })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        var server = new RedisServerProcess(process, folder, port);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    server._admin = await ConnectionMultiplexer.ConnectAsync($"{server.Configuration},connectTimeout=1000,abortConnect=true,allowAdmin=true");
                    await server._admin.GetDatabase().PingAsync();
                    return server;
                }
                catch (RedisConnectionException) when (deadline.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
                {
                    await Task.Delay(50);
                }
            }
        }
        catch (Exception ex)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"redis-server (pid {process.Id}, port {port}) did not answer PING: {ex.Message}{server.Tail()}", ex);
        }
    }

    /// <summary>Its CPU time and command counts now (two <c>INFO</c> calls, themselves left out of the counts).</summary>
    public async Task<RedisSample> SampleAsync()
    {
        var server = _admin!.GetServer("127.0.0.1", Port);
        var timestamp = Stopwatch.GetTimestamp();
        var cpu = Section(await server.InfoRawAsync("cpu") ?? "");
        var stats = Section(await server.InfoRawAsync("commandstats") ?? "");
        var commands = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        foreach (var (key, value) in stats)
        {
            // cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,rejected_calls=0,failed_calls=0
            if (!key.StartsWith("cmdstat_", StringComparison.Ordinal))
                continue;
            var fields = value.Split(',').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
            commands[key["cmdstat_".Length..]] = (long.Parse(fields.GetValueOrDefault("calls", "0"), CultureInfo.InvariantCulture),
                long.Parse(fields.GetValueOrDefault("usec", "0"), CultureInfo.InvariantCulture));
        }
        double Seconds(string name) => double.Parse(cpu.GetValueOrDefault(name, "0"), CultureInfo.InvariantCulture);
        return new RedisSample(timestamp, Seconds("used_cpu_sys") + Seconds("used_cpu_user"), commands);
    }

    /// <summary>Stops it by its pid and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
            await _admin.DisposeAsync();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static Dictionary<string, string> Section(string info) =>
        info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#') && l.Contains(':', StringComparison.Ordinal))
            .Select(l => (Key: l[..l.IndexOf(':', StringComparison.Ordinal)], Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..]))
            .GroupBy(p => p.Key)
            .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);

    private void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > 10)
                _tail.Dequeue();
        }
    }

    private string Tail()
    {
        lock (_tail)
            return _tail.Count == 0 ? "" : "; its last output: " + string.Join(" | ", _tail);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
