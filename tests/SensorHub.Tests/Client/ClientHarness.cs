using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.Extensions.Logging;
using SensorHub.Client;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// A <see cref="SensorHubClient"/> on a Kestrel app whose WebSocket a test can cut (<see cref="Drop"/>: no close
/// handshake, as a network failure), whose reconnections a test can hold back, to publish while it is away, and whose
/// reconnections a test can send to another app (<see cref="MoveToAsync"/>: the same URL served by a restarted server).
/// The client's own log is kept (<see cref="Logs"/>).
/// </summary>
public sealed class ClientHarness : IAsyncDisposable
{
    private readonly List<ConnectionChange> _changes = [];
    private readonly RecordingLoggerProvider _logs = new();
    private readonly LoggerFactory _loggerFactory;
    private readonly TestUser _user;
    private ClientWebSocket? _socket;
    private volatile TaskCompletionSource? _hold;
    // Where sockets go, and the token that server accepts: a restarted server signs with a key of its own.
    private volatile Target _target;

    private ClientHarness(SensorHubApplication app, Protocol protocol, TestUser user, string token, Action<SensorHubClientOptions>? configure)
    {
        _user = user;
        _target = new Target(app.BaseUri, token);
        _loggerFactory = new LoggerFactory([_logs]);
        var options = new SensorHubClientOptions
        {
            Url = app.BaseUri,
            Protocol = protocol == Protocol.Json ? SensorHubProtocol.Json : SensorHubProtocol.MessagePack,
            AccessTokenProvider = () => Task.FromResult<string?>(_target.Token),
            ReconnectDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100)],
            LoggerFactory = _loggerFactory,
            ConfigureHttpConnection = http =>
            {
                http.Transports = HttpTransportType.WebSockets;
                http.SkipNegotiation = true;
                http.WebSocketFactory = ConnectAsync;
            },
        };
        configure?.Invoke(options);
        Client = new SensorHubClient(options);
        Client.ConnectionStateChanged += (_, e) =>
        {
            lock (_changes)
                _changes.Add(e.Change);
        };
    }

    public SensorHubClient Client { get; }

    /// <summary>What the client logged, in order.</summary>
    public IReadOnlyList<LogEntry> Logs => _logs.Entries;

    public IReadOnlyList<ConnectionChange> Changes
    {
        get
        {
            lock (_changes)
                return [.. _changes];
        }
    }

    public static async Task<ClientHarness> StartAsync(
        SensorHubApplication app, Protocol protocol, TestUser? user = null, Action<SensorHubClientOptions>? configure = null)
    {
        user ??= TestUser.Admin;
        var token = await app.GetTokenAsync(user);
        var harness = new ClientHarness(app, protocol, user, token, configure);
        await harness.Client.StartAsync().WaitAsync(Timeouts.Default);
        return harness;
    }

    /// <summary>Sends every later connection to <paramref name="app"/>, with a token of its own, under the URL the client was built with.</summary>
    public async Task MoveToAsync(SensorHubApplication app) => _target = new Target(app.BaseUri, await app.GetTokenAsync(_user));

    /// <summary>
    /// Waits until the client has logged <paramref name="count"/> entries with <paramref name="eventId"/> that
    /// <paramref name="match"/>; a failure shows the SDK's own log.
    /// </summary>
    public async Task WaitForLogAsync(int eventId, string what, Func<LogEntry, bool>? match = null, int count = 1)
    {
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (CountLogs(eventId, match) < count)
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Not within {Timeouts.Default.TotalSeconds:0} s: {what}. The client logged:\n{DescribeLog()}");
            await Task.Delay(5);
        }
    }

    /// <summary>The SDK's own entries, and every entry with an error, one a line.</summary>
    public string DescribeLog() => string.Join('\n', Logs
        .Where(e => e.Category.StartsWith("SensorHub.", StringComparison.Ordinal) || e.Error is not null)
        .Select(e => $"{e.EventId} {e.Message}{(e.Error is null ? "" : $" [{e.Error.GetType().Name}: {e.Error.Message}]")}"));

    public int CountLogs(int eventId, Func<LogEntry, bool>? match = null) =>
        Logs.Count(e => e.EventId == eventId && (match is null || match(e)));

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
        _loggerFactory.Dispose();
    }

    private async ValueTask<WebSocket> ConnectAsync(WebSocketConnectionContext context, CancellationToken cancellationToken)
    {
        if (_hold is { } hold)
            await hold.Task.WaitAsync(cancellationToken);
        var socket = new ClientWebSocket();
        // A custom factory sends the token itself.
        if (context.Options.AccessTokenProvider is { } provider && await provider() is { } token)
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        var target = _target.BaseUri;
        var uri = new UriBuilder(context.Uri) { Host = target.Host, Port = target.Port }.Uri;
        await socket.ConnectAsync(uri, cancellationToken);
        Volatile.Write(ref _socket, socket);
        return socket;
    }

    private sealed record Target(Uri BaseUri, string Token);
}

/// <summary>One entry of the client's log.</summary>
public sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, Exception? Error);

/// <summary>Keeps every entry logged through it, in order.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly List<LogEntry> _entries = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
                return [.. _entries];
        }
    }

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Recorder(RecordingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._entries)
                owner._entries.Add(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), exception));
        }
    }
}

/// <summary>The system's clock, moved ahead by a test: timers still run in real time, only "now" jumps.</summary>
public sealed class ShiftedTimeProvider : TimeProvider
{
    private long _shiftTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _shiftTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _shiftTicks));

    public override long TimestampFrequency => System.TimestampFrequency;

    public override long GetTimestamp() =>
        System.GetTimestamp() + (long)(Interlocked.Read(ref _shiftTicks) * ((double)System.TimestampFrequency / TimeSpan.TicksPerSecond));
}

/// <summary>
/// Kestrel apps for the client tests: one with default settings, one whose history holds only 10 readings, one whose
/// connections may run only one upload at a time.
/// </summary>
public sealed class ClientFixture : IAsyncLifetime
{
    private readonly Lazy<SensorHubApplication> _default = new(() => new SensorHubApplication(Transport.Kestrel));
    private readonly Lazy<SensorHubApplication> _smallHistory = new(() => new SensorHubApplication(
        Transport.Kestrel, new Dictionary<string, string?> { ["SensorHub:Feeds:HistoryCapacity"] = "10" }));
    private readonly Lazy<SensorHubApplication> _oneUpload = new(() => new SensorHubApplication(
        Transport.Kestrel, new Dictionary<string, string?> { ["SensorHub:Uploads:MaxUploadsPerConnection"] = "1" }));

    public SensorHubApplication Default => _default.Value;

    public SensorHubApplication SmallHistory => _smallHistory.Value;

    public SensorHubApplication OneUploadPerConnection => _oneUpload.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { _default, _smallHistory, _oneUpload })
        {
            if (app.IsValueCreated)
                await app.Value.DisposeAsync();
        }
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

/// <summary>The event ids of the SDK's log (<c>ClientLog</c>) that the tests wait for.</summary>
internal static class ClientLogEvents
{
    public const int Resuming = 9005;
    public const int RetryingRefusal = 9008;
    public const int RefusedPastPatience = 9009;
    public const int RestartGap = 9010;
}
