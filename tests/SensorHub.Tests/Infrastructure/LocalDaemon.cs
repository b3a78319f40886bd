using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// What the tests' own servers (<see cref="RedisServer"/>, <see cref="MosquittoServer"/>) share: a free loopback port
/// and a temporary folder kept across restarts, a process started from them with its output drained, and a stop by
/// its pid. One process at a time.
/// </summary>
public sealed class LocalDaemon : IDisposable
{
    private readonly string _executable;
    private Process? _process;

    /// <param name="executable">The program (a name on the PATH or a path).</param>
    /// <param name="name">Names the temporary folder: <c>sensorhub-tests/{name}-{guid}</c>.</param>
    public LocalDaemon(string executable, string name)
    {
        _executable = executable;
        Port = FreeLoopbackPort();
        Folder = Path.Combine(Path.GetTempPath(), "sensorhub-tests", name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    /// <summary>The port the daemon is to listen on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Its folder: configuration, persistence.</summary>
    public string Folder { get; }

    public int Pid => _process?.Id ?? 0;

    /// <summary>Whether the process was started and has exited since (it failed to start, or crashed).</summary>
    public bool HasExited => _process is { HasExited: true };

    /// <summary>A port free on 127.0.0.1 now (the OS's pick for a listener on port 0).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the process with <paramref name="arguments"/>, each passed as it is (an empty one too).</summary>
    public void Start(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{_executable} did not start.");
        // Drained, so that a chatty daemon never blocks on a full pipe.
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Sends a signal by pid (<c>STOP</c>, <c>CONT</c>, <c>TERM</c>).</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {Pid}")!;
        kill.WaitForExit();
    }

    /// <summary>A clean stop: SIGTERM, then waits for the exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (_process is { HasExited: false } process)
        {
            Signal("TERM");
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        Kill();
    }

    /// <summary>Stops it hard (SIGKILL, as a crash), by its pid.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Kills the process and deletes the folder.</summary>
    public void Dispose()
    {
        Kill();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
