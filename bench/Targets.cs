using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Server.Feeds;

namespace SensorHub.Bench;

internal enum Protocol { Json, MessagePack }

/// <summary>One server under test, hosted in this process on 127.0.0.1 with Kestrel on a free port.</summary>
internal sealed class Target : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private readonly string _dataPath;

    private Target(string name, WebApplication app, string hubPath, string dataPath)
    {
        Name = name;
        _app = app;
        HubPath = hubPath;
        _dataPath = dataPath;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        BaseUri = new Uri(addresses.Addresses.First());
        _http = new HttpClient { BaseAddress = BaseUri };
    }

    public string Name { get; }
    public Uri BaseUri { get; }
    public string HubPath { get; }
    public bool IsBaseline => HubPath == BaselineHub.Path;
    public IServiceProvider Services => _app.Services;

    public static async Task<Target> StartSensorHubAsync()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), $"sensorhub-bench-{Guid.NewGuid():N}");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SensorHub:Simulation:Enabled"] = "false",
            ["SensorHub:Auth:AllowAnonymous"] = "true",
            ["SensorHub:Auth:DevTokens"] = "true",
            ["SensorHub:Hub:MaxStreamsPerConnection"] = "100",
            ["SensorHub:Uploads:DataPath"] = dataPath,
            ["Logging:LogLevel:Default"] = "Error",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddSensorHub();
        var app = builder.Build();
        app.MapSensorHub();
        await app.StartAsync();
        return new Target("SensorHub", app, SensorHubRoutes.Hub, dataPath);
    }

    public static async Task<Target> StartBaselineAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Error" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSignalR(o => o.MaximumReceiveMessageSize = 2 * 1024 * 1024).AddJsonProtocol().AddMessagePackProtocol();
        builder.Services.AddSingleton<BaselinePublisher>();
        var app = builder.Build();
        app.MapHub<BaselineHub>(BaselineHub.Path);
        await app.StartAsync();
        return new Target("Baseline", app, BaselineHub.Path, "");
    }

    /// <summary>Publishes one reading in-process; the value carries <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>.</summary>
    public ValueTask PublishAsync(string sensorId, bool group)
    {
        var stamp = (double)System.Diagnostics.Stopwatch.GetTimestamp();
        if (!IsBaseline)
            return AsValueTask(_app.Services.GetRequiredService<IFeedEngine>().PublishAsync(sensorId, stamp, DateTime.UtcNow, CancellationToken.None));
        var publisher = _app.Services.GetRequiredService<BaselinePublisher>();
        if (group)
            return new ValueTask(publisher.PublishToGroupAsync(sensorId, stamp, DateTime.UtcNow));
        publisher.PublishToStreams(sensorId, stamp, DateTime.UtcNow);
        return ValueTask.CompletedTask;
    }

    private static async ValueTask AsValueTask(ValueTask<Reading> task) => await task;

    public async Task RegisterSensorAsync(string sensorId)
    {
        if (!IsBaseline)
            await _app.Services.GetRequiredService<IFeedEngine>().RegisterAsync(new SensorDescriptor(sensorId, sensorId, "bench", null), CancellationToken.None);
    }

    public async Task<long> ActiveStreamsAsync()
    {
        if (IsBaseline)
            return _app.Services.GetRequiredService<BaselinePublisher>().ActiveStreams;
        var stats = await _http.GetFromJsonAsync<ServerStats>(SensorHubRoutes.Stats);
        return stats!.ActiveStreams;
    }

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
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_dataPath.Length > 0 && Directory.Exists(_dataPath))
            Directory.Delete(_dataPath, recursive: true);
    }
}
