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
    private readonly ChildProcess? _process;
    private readonly HttpClient _http;

    private BenchTarget(ServerKind kind, Uri baseUri, ChildProcess? process)
    {
        Kind = kind;
        BaseUri = baseUri;
        _process = process;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(2) };
    }

    public ServerKind Kind { get; }

    /// <summary>What it is called in messages: its label (a cluster's "node 1") or its kind.</summary>
    public string Name => Label ?? Kind.ToString();

    private string? Label { get; init; }
    public Uri BaseUri { get; }
    public bool IsBaseline => Kind == ServerKind.Baseline;

    /// <summary>Its hub: SensorHub's <c>/hubs/sensors</c>, or the baseline's.</summary>
    public Uri HubUri => new(BaseUri, IsBaseline ? BaselineHub.Path : SensorHubRoutes.Hub);

    /// <summary>
    /// Starts <c>serve</c> in a child process of this same program. It keeps this program's workstation GC: with the
    /// load generator busy on the same 2 cores, the server GC's per-core heaps paused for up to half of each second.
    /// </summary>
    /// <param name="kind">Which server.</param>
    /// <param name="settings">SensorHub settings the process overrides (<c>serve --set Key=Value</c>); none by default.</param>
    /// <param name="name">What the driver calls it in messages; the kind's name by default.</param>
    public static async Task<BenchTarget> LaunchAsync(ServerKind kind, IReadOnlyDictionary<string, string>? settings = null, string? name = null)
    {
        List<string> args = ["serve", kind.ToString().ToLowerInvariant(), "--url", "http://127.0.0.1:0", "--stdin"];
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            args.AddRange(["--set", $"{key}={value}"]);
        var process = ChildProcess.StartSelf($"{name ?? kind.ToString()} server", args);
        try
        {
            var line = await process.ReadLineAsync(l => l.StartsWith(BenchServer.ReadyPrefix, StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            return new BenchTarget(kind, new Uri(line[BenchServer.ReadyPrefix.Length..]), process) { Label = name };
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>A <c>serve</c> process that is already running, on this machine or another.</summary>
    public static BenchTarget Attach(ServerKind kind, Uri baseUri) => new(kind, baseUri, process: null);

    /// <summary>The process's pid, when this driver started it.</summary>
    public int? Pid => _process?.Id;

    /// <summary>Kills its process at once (SIGKILL, by its pid): a node that crashes, leaving nothing behind it.</summary>
    /// <exception cref="InvalidOperationException">This driver did not start it.</exception>
    public Task KillAsync() =>
        (_process ?? throw new InvalidOperationException($"{Name} was not started by this driver; it cannot be killed.")).KillAsync();

    /// <summary>Waits until <c>GET /healthz/ready</c> answers 200 (a node on Redis: Redis answers).</summary>
    /// <exception cref="TimeoutException">It did not within <paramref name="timeout"/>; the message holds its last answer.</exception>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < timeout)
        {
            try
            {
                using var response = await _http.GetAsync(SensorHubRoutes.Ready);
                if (response.IsSuccessStatusCode)
                    return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s; {SensorHubRoutes.Ready} answered: {last}");
    }

    public async Task RegisterSensorAsync(string sensorId) =>
        (await _http.PostAsJsonAsync(ControlRoutes.Sensors, new SensorRegistration(sensorId))).EnsureSuccessStatusCode();

    public async Task StartPublisherAsync(string sensorId, double ratePerSecond, bool group, TimeSpan stopAfter) =>
        (await _http.PostAsJsonAsync(ControlRoutes.PublisherStart, new PublisherStart(sensorId, ratePerSecond, group, stopAfter.TotalSeconds)))
            .EnsureSuccessStatusCode();

    /// <summary>Starts the in-server publisher on <paramref name="sensorIds"/> in turn, <paramref name="ratePerSecond"/> over all of them.</summary>
    public async Task StartPublisherAsync(IReadOnlyList<string> sensorIds, double ratePerSecond, TimeSpan stopAfter) =>
        (await _http.PostAsJsonAsync(ControlRoutes.PublisherStart, new PublisherStart(sensorIds[0], ratePerSecond, Group: false, stopAfter.TotalSeconds, [.. sensorIds])))
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

    public Task<HubConnection> ConnectAsync(Protocol protocol, string? token = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(HubUri, protocol, token, cancellationToken);

    /// <summary>
    /// A started connection to <paramref name="hub"/> over WebSockets with negotiation skipped (the driver's subscribers
    /// and the device process alike), with <paramref name="token"/> as its access token when given.
    /// </summary>
    public static async Task<HubConnection> ConnectAsync(Uri hub, Protocol protocol, string? token, CancellationToken cancellationToken)
    {
        var builder = new HubConnectionBuilder().WithUrl(hub, o =>
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
        if (_process is not null)
            await _process.DisposeAsync();
    }
}
