using System.Net;
using System.Security.Claims;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Hubs;
using SensorHub.Server.Identity;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// The real server app, hosted either on the in-memory test server or on Kestrel at 127.0.0.1 on a free port.
/// Simulated sensors are off unless a test turns them on, so that every reading a test sees is one it published.
/// </summary>
public sealed class SensorHubApplication : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["SensorHub:Simulation:Enabled"] = "false",
        // appsettings.Development.json sets Information; the tests' output should show warnings and errors only.
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private readonly string _environment;

    /// <param name="transport">The in-memory test server or Kestrel.</param>
    /// <param name="settings">Configuration over the app's own.</param>
    /// <param name="environment">The host's environment.</param>
    public SensorHubApplication(
        Transport transport = Transport.TestServer, IDictionary<string, string?>? settings = null, string environment = "Development")
    {
        Transport = transport;
        _environment = environment;
        // Each server writes its uploads into a folder of its own, removed when it is disposed.
        DataPath = Path.Combine(Path.GetTempPath(), "sensorhub-tests", Guid.NewGuid().ToString("N"));
        _settings["SensorHub:Uploads:DataPath"] = DataPath;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
        DataPath = _settings["SensorHub:Uploads:DataPath"]!;
        if (transport == Transport.Kestrel)
            UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    public Transport Transport { get; }

    /// <summary>Registrations after the app's own, for a test's stand-ins and hooks.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>The server's upload folder (a setting may move it).</summary>
    public string DataPath { get; private set; }

    public IFeedEngine Engine => Services.GetRequiredService<IFeedEngine>();

    public HubActivity Activity => Services.GetRequiredService<HubActivity>();

    /// <summary>The server's base address: the test server's, or Kestrel's real one.</summary>
    public Uri BaseUri
    {
        get
        {
            StartServer();
            if (Transport == Transport.TestServer)
                return Server.BaseAddress;
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        }
    }

    public Uri HubUri => new(BaseUri, SensorHubRoutes.Hub);

    /// <summary>A started hub connection over WebSockets as an admin, whose socket a test can also cut without a close handshake.</summary>
    public Task<TestConnection> ConnectAsync(Protocol protocol, CancellationToken cancellationToken = default) =>
        ConnectAsync(protocol, TestUser.Admin, cancellationToken);

    /// <summary>A started hub connection over WebSockets as <paramref name="user"/>.</summary>
    public async Task<TestConnection> ConnectAsync(Protocol protocol, TestUser user, CancellationToken cancellationToken = default) =>
        await ConnectWithTokenAsync(protocol, user.IsAnonymous ? null : await GetTokenAsync(user), cancellationToken);

    /// <summary>A started hub connection over WebSockets with <paramref name="token"/> (none: anonymous).</summary>
    public async Task<TestConnection> ConnectWithTokenAsync(Protocol protocol, string? token, CancellationToken cancellationToken = default)
    {
        var socket = new WebSocketHolder();
        var builder = new HubConnectionBuilder()
            .WithUrl(HubUri, options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                // A custom WebSocketFactory sends no token of its own: it goes in the query string, as browsers send it.
                options.WebSocketFactory = async (context, ct) => socket.Socket = await OpenWebSocketAsync(WithToken(context.Uri, token), ct);
            })
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        if (protocol == Protocol.MessagePack)
            builder.AddMessagePackProtocol();
        var hub = builder.Build();
        await hub.StartAsync(cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
        return new TestConnection(hub, socket);
    }

    /// <summary>A dev token for <paramref name="user"/> from <c>POST /api/dev/token</c>.</summary>
    public async Task<string> GetTokenAsync(TestUser user)
    {
        using var client = CreateHttpClient();
        using var response = await client.PostAsJsonAsync(
            SensorHubRoutes.DevToken, new DevTokenRequest { Name = user.Name, Roles = user.Roles, Sensors = user.Sensors }).WaitAsync(Timeouts.Default);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DevTokenResponse>())!.AccessToken;
    }

    /// <summary>
    /// A token signed with the server's own key that carries exactly <paramref name="claims"/> (plus issuer and
    /// audience), for the tokens a dev token cannot be: without a subject, short-lived, already expired.
    /// </summary>
    public string MintToken(IEnumerable<Claim> claims, TimeSpan lifetime, DateTime? issuedAt = null)
    {
        var auth = Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var now = issuedAt ?? DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = auth.Issuer,
            Audience = auth.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = Services.GetRequiredService<SigningKey>().Credentials,
        });
    }

    /// <summary>The claims a dev token for <paramref name="user"/> carries, to mint a variant of it.</summary>
    public static List<Claim> ClaimsOf(TestUser user, bool withSubject = true)
    {
        var claims = new List<Claim> { new(SensorHubUser.NameClaim, user.Name) };
        if (withSubject)
            claims.Add(new Claim(SensorHubUser.SubjectClaim, user.Name));
        claims.AddRange(user.Roles.Select(role => new Claim(SensorHubUser.RoleClaim, role)));
        claims.AddRange((user.Sensors ?? []).Select(prefix => new Claim(SensorHubUser.SensorsClaim, prefix)));
        return claims;
    }

    public async Task<ServerStats> GetStatsAsync()
    {
        using var client = CreateHttpClient();
        return (await client.GetFromJsonAsync<ServerStats>(SensorHubRoutes.Stats).WaitAsync(Timeouts.Default))!;
    }

    public HttpClient CreateHttpClient() =>
        Transport == Transport.TestServer ? CreateClient() : new HttpClient { BaseAddress = BaseUri };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
        // AddSensorHub reads this one while the app's builder is made, before the configuration above applies; a host
        // setting is there already. (appsettings.json does not set it, so the lower precedence changes nothing.)
        if (_settings.TryGetValue(RedisEngineSetting, out var redis))
            builder.UseSetting(RedisEngineSetting, redis);
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        if (TestServices is { } services)
            builder.ConfigureTestServices(services);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(DataPath) && DataPath.StartsWith(Path.Combine(Path.GetTempPath(), "sensorhub-tests"), StringComparison.Ordinal))
            Directory.Delete(DataPath, recursive: true);
        GC.SuppressFinalize(this);
    }

    private const string RedisEngineSetting = "SensorHub:Redis:Configuration";

    private static Uri WithToken(Uri uri, string? token) =>
        token is null ? uri : new Uri($"{uri}{(uri.Query.Length > 0 ? "&" : "?")}access_token={Uri.EscapeDataString(token)}");

    private async Task<WebSocket> OpenWebSocketAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (Transport == Transport.TestServer)
            return await Server.CreateWebSocketClient().ConnectAsync(uri, cancellationToken);
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, cancellationToken);
        return socket;
    }

    internal sealed class WebSocketHolder
    {
        public WebSocket? Socket { get; set; }
    }
}

/// <summary>A hub connection and the socket under it.</summary>
public sealed class TestConnection : IAsyncDisposable
{
    private readonly SensorHubApplication.WebSocketHolder _socket;

    internal TestConnection(HubConnection hub, SensorHubApplication.WebSocketHolder socket)
    {
        Hub = hub;
        _socket = socket;
    }

    public HubConnection Hub { get; }

    /// <summary>Cuts the connection as a network failure would: no close handshake, no cancel message.</summary>
    public void Drop() => _socket.Socket?.Abort();

    public async ValueTask DisposeAsync() => await Hub.DisposeAsync();
}
