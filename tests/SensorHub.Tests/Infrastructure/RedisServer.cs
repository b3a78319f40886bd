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
    private readonly LocalDaemon _daemon = new("redis-server", "redis");
    private readonly bool _appendOnly;
    private ConnectionMultiplexer? _admin;

    private RedisServer(bool appendOnly) => _appendOnly = appendOnly;

    public int Port => _daemon.Port;

    public int Pid => _daemon.Pid;

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
        var server = new RedisServer(appendOnly);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Stops it hard (SIGKILL, as a crash) and starts it again on the same port and folder.</summary>
    public async Task RestartAsync(TimeSpan downFor = default)
    {
        _daemon.Kill();
        if (downFor > TimeSpan.Zero)
            await Task.Delay(downFor);
        await StartProcessAsync();
    }

    /// <summary>Stops it (SIGKILL) and leaves it stopped, as an outage; <see cref="StartAgainAsync"/> ends the outage.</summary>
    public void Stop() => _daemon.Kill();

    /// <summary>Starts it again after <see cref="Stop"/>.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <summary>Suspends it (SIGSTOP): it keeps its sockets open and answers nothing, the outage that raises no error.</summary>
    public void Pause() => _daemon.Signal("STOP");

    /// <summary>Resumes it after <see cref="Pause"/>.</summary>
    public void Resume() => _daemon.Signal("CONT");

    private async Task StartProcessAsync()
    {
        var arguments = $"--port {Port} --bind 127.0.0.1 --save '' --dir {_daemon.Folder} --daemonize no --protected-mode no " +
                        (_appendOnly ? "--appendonly yes --appendfsync everysec" : "--appendonly no");
        // '' must reach redis-server as an empty argument.
        _daemon.Start(arguments.Split(' ').Select(argument => argument == "''" ? "" : argument));

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
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !_daemon.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
            await _admin.DisposeAsync();
        _daemon.Dispose();
    }
}
