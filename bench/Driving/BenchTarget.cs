using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Bench.Serving;
using SensorHub.Contracts;

namespace SensorHub.Bench.Driving;

internal enum Protocol { Json, MessagePack }

/// <summary>
/// One server under test, seen from the driver: a <c>serve</c> process this driver started on 127.0.0.1 (and stops),
/// or one already running at a URL. Hub connections go to its hub; everything else to its bench control routes.
/// </summary>
internal sealed class BenchTarget : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly HttpClient _http;

    private BenchTarget(ServerKind kind, Uri baseUri, Process? process)
    {
        Kind = kind;
        BaseUri = baseUri;
        _process = process;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(2) };
    }

    public ServerKind Kind { get; }
    public string Name => Kind.ToString();
    public Uri BaseUri { get; }
    public bool IsBaseline => Kind == ServerKind.Baseline;
    private string HubPath => IsBaseline ? BaselineHub.Path : SensorHubRoutes.Hub;

    /// <summary>
    /// Starts <c>serve</c> in a child process of this same program. It keeps this program's workstation GC: with the
    /// load generator busy on the same 2 cores, the server GC's per-core heaps paused for up to half of each second.
    /// </summary>
    public static async Task<BenchTarget> LaunchAsync(ServerKind kind)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Under `dotnet SensorHub.Bench.dll` the process is the dotnet host: the program's path comes first.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(typeof(BenchTarget).Assembly.Location);
        foreach (var arg in new[] { "serve", kind.ToString().ToLowerInvariant(), "--url", "http://127.0.0.1:0", "--stdin" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {self}");
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(ready.Token) is { } line)
        {
            if (line.StartsWith(BenchServer.ReadyPrefix, StringComparison.Ordinal))
            {
                // Keep draining its output so that it never blocks on a full pipe.
                _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                return new BenchTarget(kind, new Uri(line[BenchServer.ReadyPrefix.Length..]), process);
            }
        }
        throw new InvalidOperationException($"the {kind} server exited before it was ready (exit code {(process.HasExited ? process.ExitCode : -1)})");
    }

    /// <summary>A <c>serve</c> process that is already running, on this machine or another.</summary>
    public static BenchTarget Attach(ServerKind kind, Uri baseUri) => new(kind, baseUri, process: null);

    public async Task RegisterSensorAsync(string sensorId) =>
        (await _http.PostAsJsonAsync(ControlRoutes.Sensors, new SensorRegistration(sensorId))).EnsureSuccessStatusCode();

    public async Task StartPublisherAsync(string sensorId, double ratePerSecond, bool group, TimeSpan stopAfter) =>
        (await _http.PostAsJsonAsync(ControlRoutes.PublisherStart, new PublisherStart(sensorId, ratePerSecond, group, stopAfter.TotalSeconds)))
            .EnsureSuccessStatusCode();

    public async Task<long> StopPublisherAsync()
    {
        using var response = await _http.PostAsync(ControlRoutes.PublisherStop, content: null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<PublisherStopped>())!.Published;
    }

    /// <summary>The server's own figures; <paramref name="collect"/> forces a compacting collection first.</summary>
    public async Task<ServerSample> SampleAsync(bool collect = false) =>
        (await _http.GetFromJsonAsync<ServerSample>($"{ControlRoutes.Sample}?gc={(collect ? "true" : "false")}"))!;

    public async Task<long> ActiveStreamsAsync() => (await SampleAsync()).ActiveStreams;

    public async Task ResetPeaksAsync() => (await _http.PostAsync(ControlRoutes.PeaksReset, content: null)).EnsureSuccessStatusCode();

    public async Task ResetStreamEndsAsync() => (await _http.PostAsync(ControlRoutes.StreamEndsReset, content: null)).EnsureSuccessStatusCode();

    /// <summary>When each stream's finally ran since the last reset, in <see cref="Stopwatch.GetTimestamp"/> ticks.</summary>
    public async Task<long[]> StreamEndsAsync() => (await _http.GetFromJsonAsync<long[]>(ControlRoutes.StreamEnds))!;

    public async Task<string> DevTokenAsync(string role)
    {
        using var response = await _http.PostAsJsonAsync(SensorHubRoutes.DevToken, new DevTokenRequest { Name = "bench", Roles = [role] });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DevTokenResponse>())!.AccessToken;
    }

    public async Task<HubConnection> ConnectAsync(Protocol protocol, string? token = null, CancellationToken cancellationToken = default)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(BaseUri, HubPath), o =>
        {
            o.Transports = HttpTransportType.WebSockets;
            o.SkipNegotiation = true;
            if (token is not null)
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
        });
        if (protocol == Protocol.MessagePack)
            builder.AddMessagePackProtocol();
        var connection = builder.Build();
        connection.ServerTimeout = TimeSpan.FromMinutes(2);
        await connection.StartAsync(cancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_process is null)
            return;
        _process.StandardInput.Close();
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(exited.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
