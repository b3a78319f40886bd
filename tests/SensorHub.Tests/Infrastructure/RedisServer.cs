using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// A <c>redis-server</c> of the test's own (Debian's, 7.0) on a free loopback port, in a temporary folder, stopped by
/// its pid. Without persistence unless <paramref name="appendOnly"/>, which turns AOF on with <c>appendfsync
/// everysec</c> so that a restart (<see cref="RestartAsync"/>) keeps what was written up to a second before.
/// Tests on one server keep apart by a key prefix of their own (<see cref="NewPrefix"/>).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _folder;
    private readonly bool _appendOnly;
    private Process? _process;
    private ConnectionMultiplexer? _admin;

    private RedisServer(int port, string folder, bool appendOnly)
    {
        Port = port;
        _folder = folder;
        _appendOnly = appendOnly;
    }

    public int Port { get; }

    public int Pid => _process?.Id ?? 0;

    /// <summary>The StackExchange.Redis configuration string for it: what <c>SensorHub:Redis:Configuration</c> takes.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A connection of the test's own, for looking at keys and for faults (<c>CLIENT KILL</c>).</summary>
    public IDatabase Admin => (_admin ?? throw new InvalidOperationException("Not started.")).GetDatabase();

    public IServer AdminServer => _admin!.GetServer("127.0.0.1", Port);

    /// <summary>A key prefix no other test on this server uses.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    /// <summary>Starts one and returns once it answers <c>PING</c>.</summary>
    public static async Task<RedisServer> StartAsync(bool appendOnly = false)
    {
        var folder = Path.Combine(Path.GetTempPath(), "sensorhub-tests", "redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var server = new RedisServer(FreePort(), folder, appendOnly);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Stops it hard (SIGKILL, as a crash) and starts it again on the same port and folder.</summary>
    public async Task RestartAsync(TimeSpan downFor = default)
    {
        StopProcess();
        if (downFor > TimeSpan.Zero)
            await Task.Delay(downFor);
        await StartProcessAsync();
    }

    /// <summary>Stops it (SIGKILL) and leaves it stopped, as an outage; <see cref="StartAgainAsync"/> ends the outage.</summary>
    public void Stop() => StopProcess();

    /// <summary>Starts it again after <see cref="Stop"/>.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <summary>Suspends it (SIGSTOP): it keeps its sockets open and answers nothing, the outage that raises no error.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Resumes it after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {Pid}")!;
        kill.WaitForExit();
    }

    private async Task StartProcessAsync()
    {
        var arguments = $"--port {Port} --bind 127.0.0.1 --save '' --dir {_folder} --daemonize no --protected-mode no " +
                        (_appendOnly ? "--appendonly yes --appendfsync everysec" : "--appendonly no");
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // '' must reach redis-server as an empty argument, which ArgumentList does and Arguments would not.
        foreach (var argument in arguments.Split(' '))
            start.ArgumentList.Add(argument == "''" ? "" : argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                _admin?.Dispose();
                _admin = await ConnectionMultiplexer.ConnectAsync($"{Configuration},connectTimeout=1000,abortConnect=true");
                await _admin.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    private void StopProcess()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
            await _admin.DisposeAsync();
        StopProcess();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
