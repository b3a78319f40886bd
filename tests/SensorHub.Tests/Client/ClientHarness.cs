using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using SensorHub.Client;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// A <see cref="SensorHubClient"/> on a Kestrel app whose WebSocket a test can cut (<see cref="Drop"/>: no close
/// handshake, as a network failure) and whose reconnections a test can hold back, to publish while it is away.
/// </summary>
public sealed class ClientHarness : IAsyncDisposable
{
    private readonly List<ConnectionChange> _changes = [];
    private ClientWebSocket? _socket;
    private volatile TaskCompletionSource? _hold;

    private ClientHarness(SensorHubApplication app, Protocol protocol, string token)
    {
        Client = new SensorHubClient(new SensorHubClientOptions
        {
            Url = app.BaseUri,
            Protocol = protocol == Protocol.Json ? SensorHubProtocol.Json : SensorHubProtocol.MessagePack,
            AccessTokenProvider = () => Task.FromResult<string?>(token),
            ReconnectDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100)],
            ConfigureHttpConnection = http =>
            {
                http.Transports = HttpTransportType.WebSockets;
                http.SkipNegotiation = true;
                http.WebSocketFactory = ConnectAsync;
            },
        });
        Client.ConnectionStateChanged += (_, e) =>
        {
            lock (_changes)
                _changes.Add(e.Change);
        };
    }

    public SensorHubClient Client { get; }

    public IReadOnlyList<ConnectionChange> Changes
    {
        get
        {
            lock (_changes)
                return [.. _changes];
        }
    }

    public static async Task<ClientHarness> StartAsync(SensorHubApplication app, Protocol protocol, TestUser? user = null)
    {
        var token = await app.GetTokenAsync(user ?? TestUser.Admin);
        var harness = new ClientHarness(app, protocol, token);
        await harness.Client.StartAsync().WaitAsync(Timeouts.Default);
        return harness;
    }

    /// <summary>Cuts the connection from the client's side without a close handshake.</summary>
    public void Drop() => Volatile.Read(ref _socket)?.Abort();

    /// <summary>Makes reconnection attempts wait until <see cref="ReleaseReconnects"/>.</summary>
    public void HoldReconnects() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseReconnects() => _hold?.TrySetResult();

    public Task WaitForChangeAsync(ConnectionChange change, int count = 1) =>
        Timeouts.WaitUntilAsync(() => Changes.Count(c => c == change) >= count, Timeouts.Default, $"{count} × {change}");

    public async ValueTask DisposeAsync()
    {
        ReleaseReconnects();
        await Client.DisposeAsync();
    }

    private async ValueTask<WebSocket> ConnectAsync(WebSocketConnectionContext context, CancellationToken cancellationToken)
    {
        if (_hold is { } hold)
            await hold.Task.WaitAsync(cancellationToken);
        var socket = new ClientWebSocket();
        // A custom factory sends the token itself.
        if (context.Options.AccessTokenProvider is { } provider && await provider() is { } token)
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await socket.ConnectAsync(context.Uri, cancellationToken);
        Volatile.Write(ref _socket, socket);
        return socket;
    }
}

/// <summary>Kestrel apps for the client tests: one with default settings, one whose history holds only 10 readings.</summary>
public sealed class ClientFixture : IAsyncLifetime
{
    private readonly Lazy<SensorHubApplication> _default = new(() => new SensorHubApplication(Transport.Kestrel));
    private readonly Lazy<SensorHubApplication> _smallHistory = new(() => new SensorHubApplication(
        Transport.Kestrel, new Dictionary<string, string?> { ["SensorHub:Feeds:HistoryCapacity"] = "10" }));

    public SensorHubApplication Default => _default.Value;

    public SensorHubApplication SmallHistory => _smallHistory.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_default.IsValueCreated)
            await _default.Value.DisposeAsync();
        if (_smallHistory.IsValueCreated)
            await _smallHistory.Value.DisposeAsync();
    }
}

/// <summary>An <see cref="IProgress{T}"/> that records each report at once, in order (unlike <see cref="Progress{T}"/>).</summary>
public sealed class RecordingProgress<T>(Action<T>? onReport = null) : IProgress<T>
{
    private readonly List<T> _reports = [];

    public IReadOnlyList<T> Reports
    {
        get
        {
            lock (_reports)
                return [.. _reports];
        }
    }

    public void Report(T value)
    {
        lock (_reports)
            _reports.Add(value);
        onReport?.Invoke(value);
    }
}
