using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SensorHub.Bench.Driving;

/// <summary>
/// A <c>mosquitto</c> broker of the bench's own (Debian's, 2.0) on a free loopback port, with a configuration file in a
/// temporary folder of its own, stopped by its pid. No persistence; <c>max_queued_messages 0</c> (no bound), so that a
/// publisher faster than the ingest loses nothing at the broker; <c>max_inflight_messages</c> left at its default (20).
/// </summary>
internal sealed class MosquittoProcess : IAsyncDisposable
{
    private const string DebianPath = "/usr/sbin/mosquitto";
    private readonly ChildProcess _process;
    private readonly string _folder;

    private MosquittoProcess(ChildProcess process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    /// <summary>The broker's program: Debian's (in /usr/sbin, off a non-root PATH), else <c>mosquitto</c> on the PATH; <see langword="null"/> when neither is there.</summary>
    public static string? Program()
    {
        if (File.Exists(DebianPath))
            return DebianPath;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "mosquitto");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>Starts one and returns once it accepts TCP connections.</summary>
    public static async Task<MosquittoProcess> StartAsync()
    {
        var program = Program() ?? throw new InvalidOperationException("mosquitto is not installed (apt-get install mosquitto; ./test.sh installs it)");
        var folder = Path.Combine(Path.GetTempPath(), $"sensorhub-bench-mosquitto-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var port = FreePort();
        var config = Path.Combine(folder, "mosquitto.conf");
        await File.WriteAllLinesAsync(config,
        [
            $"listener {port.ToString(CultureInfo.InvariantCulture)} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_queued_messages 0",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]);
        var process = ChildProcess.Start("mosquitto", program, ["-c", config]);
        var broker = new MosquittoProcess(process, folder, port);
        try
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return broker;
                }
                catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
                {
                    await Task.Delay(50);
                }
            }
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops it by its pid (it is killed if it has not exited in time) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.KillAsync();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
