using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using SensorHub.Contracts;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// The built server (<c>SensorHub.Server.dll</c>, copied beside the tests) in a process of its own on 127.0.0.1, stopped
/// with SIGTERM as an orchestrator stops a node: the only way to exercise the host's real stop, from the signal through
/// <c>app.Run()</c>'s return to the process's exit. It is killed by its pid when disposed, should it still run.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _dataPath;

    private ServerProcess(Process process, string dataPath)
    {
        _process = process;
        _dataPath = dataPath;
    }

    /// <summary>The server's base address, once it listens.</summary>
    public Uri BaseUri { get; private set; } = null!;

    public Uri HubUri => new(BaseUri, SensorHubRoutes.Hub);

    public int Pid => _process.Id;

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited { get; private set; } = Task.CompletedTask;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the server wrote to its standard output and error so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>
    /// Starts the server in Development (dev tokens on, guests allowed) without simulated sensors, on a free port, with
    /// an upload folder of its own, and returns once it says where it listens.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(IDictionary<string, string>? settings = null)
    {
        var baseDirectory = AppContext.BaseDirectory;
        var dataPath = Path.Combine(Path.GetTempPath(), "sensorhub-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = baseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(baseDirectory, "SensorHub.Server.dll"));
        var arguments = new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            // An absolute content root: a relative one would be taken from the DLL's folder.
            ["contentRoot"] = baseDirectory,
            ["environment"] = "Development",
            ["SensorHub:Simulation:Enabled"] = "false",
            ["SensorHub:Uploads:DataPath"] = dataPath,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            arguments[key] = value;
        foreach (var (key, value) in arguments)
        {
            start.ArgumentList.Add($"--{key}");
            start.ArgumentList.Add(value);
        }
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment["DOTNET_NOLOGO"] = "1";

        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process, dataPath);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        if (!process.Start())
            throw new InvalidOperationException("The server process did not start.");
        server.Exited = process.WaitForExitAsync();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.BaseUri = await server._listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Sends SIGTERM to the process, as <c>docker stop</c> or Kubernetes do.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("kill did not start.");
        await kill.WaitForExitAsync().WaitAsync(Timeouts.Default);
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -s TERM {Pid} failed with {kill.ExitCode}.");
    }

    /// <summary>A dev token from the server's <c>POST /api/dev/token</c>.</summary>
    public async Task<string> GetTokenAsync(TestUser user)
    {
        using var client = new HttpClient { BaseAddress = BaseUri };
        using var response = await client.PostAsJsonAsync(
            SensorHubRoutes.DevToken, new DevTokenRequest { Name = user.Name, Roles = user.Roles, Sensors = user.Sensors }).WaitAsync(Timeouts.Default);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DevTokenResponse>().WaitAsync(Timeouts.Default))!.AccessToken;
    }

    public async Task<ServerStats> GetStatsAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseUri };
        return (await client.GetFromJsonAsync<ServerStats>(SensorHubRoutes.Stats).WaitAsync(Timeouts.Default))!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await Exited.WaitAsync(Timeouts.Default);
            }
        }
        finally
        {
            _process.Dispose();
            if (Directory.Exists(_dataPath))
                Directory.Delete(_dataPath, recursive: true);
        }
    }

    /// <summary>The <c>dotnet</c> that runs the tests (the CLI names it in DOTNET_HOST_PATH), else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        if (ListeningLine().Match(line) is { Success: true } match)
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    // Not up to a quote either: under the JSON console formatter the line is a JSON object.
    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningLine();
}
