using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Client;

/// <summary>
/// A connection to a SensorHub server, with typed calls whose streams outlive a dropped connection: subscriptions and
/// session joins resume, uploads and downloads continue where the server stands.
/// </summary>
/// <remarks>
/// Build it from <see cref="SensorHubClientOptions"/>, call <see cref="StartAsync"/> once, and dispose it when done. It
/// is thread-safe: any number of subscriptions, uploads and calls may run at once over its one connection. When the
/// connection drops it reconnects by itself (<see cref="SensorHubClientOptions.ReconnectDelays"/>); calls made while it
/// reconnects wait for it. A client whose connection has closed for good (see <see cref="ConnectionChange.Disconnected"/>)
/// may be started again. Every error the server answers with reaches the caller as a
/// <see cref="SensorHubServerException"/>, whose <see cref="SensorHubServerException.ErrorCode"/> tells a refusal's reason,
/// except <c>backend_unavailable</c> (a node that lost its Redis), which streams and idempotent calls resume from like a
/// drop. Given the nodes of a cluster (<see cref="SensorHubClientOptions.ServerUrls"/>), it is on one at a time and
/// fails over to the next when that one cannot be reached or cannot serve.
/// </remarks>
public sealed partial class SensorHubClient : IAsyncDisposable
{
    private readonly HubConnection _hub;
    private readonly ILogger _logger;
    private readonly ServerFailover _servers;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Resumable _resumable;
    private readonly TimeSpan _unknownSensorPatience;
    private readonly Lock _gate = new();
    // Completed while connected; replaced by a pending one when the connection drops, faulted when it closes for good.
    private TaskCompletionSource _connected = NewConnectedSource();
    private bool _started;
    private int _disposed;

    /// <summary>Builds a client; it connects on <see cref="StartAsync"/>.</summary>
    /// <param name="options">
    /// How to connect; <see cref="SensorHubClientOptions.Url"/> or <see cref="SensorHubClientOptions.ServerUrls"/> is required.
    /// </param>
    public SensorHubClient(SensorHubClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hubUrls = HubUrlsOf(options);
        if (options.UnknownSensorPatience < TimeSpan.Zero && options.UnknownSensorPatience != Timeout.InfiniteTimeSpan)
            throw new ArgumentException($"options.UnknownSensorPatience must be zero or more, or infinite; it was {options.UnknownSensorPatience}.", nameof(options));

        _logger = options.LoggerFactory?.CreateLogger<SensorHubClient>() ?? NullLogger<SensorHubClient>.Instance;
        _unknownSensorPatience = options.UnknownSensorPatience;
        var transferFormat = options.Protocol == SensorHubProtocol.MessagePack ? TransferFormat.Binary : TransferFormat.Text;
        _servers = new ServerFailover(
            hubUrls,
            hubUrl =>
            {
                // WebSockets without negotiation: a negotiated connection id is known only to the node that issued it,
                // so any node can take this connection, and a reconnection can go to another node.
                var http = new HttpConnectionOptions
                {
                    Url = hubUrl,
                    Transports = HttpTransportType.WebSockets,
                    SkipNegotiation = true,
                    DefaultTransferFormat = transferFormat,
                    AccessTokenProvider = options.AccessTokenProvider,
                };
                options.ConfigureHttpConnection?.Invoke(http);
                return http;
            },
            options.LoggerFactory ?? NullLoggerFactory.Instance,
            _logger);
        // One policy paces both SignalR's reconnections and the SDK's retries of refusals that are transient.
        var retryPolicy = options.ReconnectPolicy ?? new BackoffRetryPolicy(options.ReconnectDelays);
        _resumable = new Resumable(WaitForConnectionAsync, retryPolicy, _servers, options.TimeProvider, _logger);
        // The failover factory stands in for the one WithUrl would register: SignalR's reconnect loop stays SignalR's,
        // only the address of each attempt is the client's choice.
        var builder = new HubConnectionBuilder().WithAutomaticReconnect(retryPolicy);
        builder.Services.AddSingleton<IConnectionFactory>(_servers);
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(hubUrls[0]));
        if (options.Protocol == SensorHubProtocol.MessagePack)
            builder.AddMessagePackProtocol();
        if (options.LoggerFactory is { } loggerFactory)
            builder.Services.AddSingleton(loggerFactory);
        _hub = builder.Build();
        _hub.Reconnecting += OnReconnecting;
        _hub.Reconnected += OnReconnected;
        _hub.Closed += OnClosed;
    }

    /// <summary>
    /// The connection was made, dropped, remade or closed. Raised on SignalR's threads; a handler should return quickly.
    /// </summary>
    public event EventHandler<ConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>
    /// A subscription found readings it can never deliver (see <see cref="SequenceGap"/>). Raised on the consumer's
    /// thread, just before the subscription yields the first reading after the gap.
    /// </summary>
    public event EventHandler<SequenceGapEventArgs>? GapDetected;

    /// <summary>The connection's state now.</summary>
    public HubConnectionState State => _hub.State;

    /// <summary>
    /// The connection's id, while connected over a negotiated connection; <see langword="null"/> over WebSockets
    /// without negotiation (the default), where the server assigns an id the client is not told.
    /// </summary>
    public string? ConnectionId => _hub.ConnectionId;

    /// <summary>The hub's address on the server the client is connected to (or, while it is not, the one it tries next).</summary>
    public Uri HubUrl => _servers.CurrentUrl;

    /// <summary>The hub's address on every server the client may connect to, in the order it tries them.</summary>
    public IReadOnlyList<Uri> HubUrls => _servers.HubUrls;

    /// <summary>
    /// Connects: to each server in turn (see <see cref="SensorHubClientOptions.ServerUrls"/>) until one answers. When
    /// none does, the last failure is thrown, not retried; once connected, drops are retried by themselves.
    /// </summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_gate)
        {
            if (_connected.Task.IsFaulted)
                _connected = NewConnectedSource();
            _started = true;
        }
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _hub.StartAsync(cancellationToken).ConfigureAwait(false);
                break;
            }
            // A failed connection attempt has moved the failover to the next server: try that one, once each.
            catch (Exception) when (attempt < _servers.HubUrls.Count && !cancellationToken.IsCancellationRequested && _hub.State == HubConnectionState.Disconnected)
            {
            }
            catch
            {
                lock (_gate)
                {
                    _started = false;
                }
                throw;
            }
        }
        lock (_gate)
        {
            _connected.TrySetResult();
        }
        ClientLog.Connected(_logger, _servers.CurrentUrl, _hub.ConnectionId);
        Raise(new ConnectionStateChangedEventArgs(ConnectionChange.Connected, null, _hub.ConnectionId));
    }

    /// <summary>Closes the connection: every subscription, join and transfer in progress ends with an exception.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _disposing.CancelAsync().ConfigureAwait(false);
        await _hub.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            if (!_connected.TrySetException(new ObjectDisposedException(nameof(SensorHubClient))))
            {
                _connected = NewConnectedSource();
                _connected.SetException(new ObjectDisposedException(nameof(SensorHubClient)));
            }
        }
        _connected.Task.Exception?.Handle(_ => true);
    }

    /// <summary>
    /// Waits until the connection is up. <paramref name="attempt"/> counts the failed attempts of the caller's operation
    /// in a row: a failure seen just before SignalR has noticed the drop finds the connection still "connected", so
    /// later attempts back off a little instead of spinning.
    /// </summary>
    private async Task WaitForConnectionAsync(int attempt, CancellationToken cancellationToken)
    {
        if (attempt > 0)
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1_000, 25 << Math.Min(attempt, 6))), cancellationToken).ConfigureAwait(false);
        while (true)
        {
            Task connected;
            lock (_gate)
            {
                if (!_started)
                    throw new InvalidOperationException("The client is not started: call StartAsync first.");
                connected = _connected.Task;
            }
            await connected.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (_hub.State == HubConnectionState.Connected)
                return;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Invokes a hub method once the connection is up; an <paramref name="idempotent"/> one is retried after a drop.
    /// A server error reaches the caller as a <see cref="SensorHubServerException"/>; no refusal is retried.
    /// </summary>
    private async Task<T> InvokeAsync<T>(string method, object?[] args, bool idempotent, CancellationToken cancellationToken)
    {
        using var leave = Leave(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            await WaitForConnectionAsync(attempt, leave.Token).ConfigureAwait(false);
            var connection = _servers.Generation;
            try
            {
                return await _hub.InvokeCoreAsync<T>(method, args, leave.Token).ConfigureAwait(false);
            }
            // The server cannot serve (its Redis is gone): leave it, and resume an idempotent call like after a drop.
            catch (HubException ex) when (SensorHubErrors.CodeOf(ex.Message) == SensorHubErrors.BackendUnavailable)
            {
                _servers.Leave(connection, ex.Message);
                if (!idempotent)
                    throw SensorHubServerException.From(ex);
                ClientLog.Resuming(_logger, method, "", attempt + 1, Interruption.Interrupted, ex);
            }
            catch (HubException ex)
            {
                throw SensorHubServerException.From(ex);
            }
            catch (Exception ex) when (idempotent && IsConnectionLoss(ex, leave.Token))
            {
                ClientLog.Resuming(_logger, method, "", attempt + 1, Interruption.ConnectionLost, ex);
            }
        }
    }

    private async Task InvokeAsync(string method, object?[] args, CancellationToken cancellationToken)
    {
        using var leave = Leave(cancellationToken);
        await WaitForConnectionAsync(0, leave.Token).ConfigureAwait(false);
        var connection = _servers.Generation;
        try
        {
            await _hub.InvokeCoreAsync(method, args, leave.Token).ConfigureAwait(false);
        }
        catch (HubException ex)
        {
            if (SensorHubErrors.CodeOf(ex.Message) == SensorHubErrors.BackendUnavailable)
                _servers.Leave(connection, ex.Message);
            throw SensorHubServerException.From(ex);
        }
    }

    /// <summary>A token for one operation: cancelled by the caller, or when the client is disposed.</summary>
    private CancellationTokenSource Leave(CancellationToken cancellationToken) =>
        CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);

    /// <summary>
    /// Whether <paramref name="error"/> is the connection going away rather than the server answering: SignalR fails a
    /// call cut by a drop with a cancellation or an invalid-operation error, and hands on every server error, a refusal
    /// (with a code) or an unexpected failure (without), as a <see cref="HubException"/>. The same rule as
    /// <see cref="Resumable"/>'s.
    /// </summary>
    private static bool IsConnectionLoss(Exception error, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && error is not HubException;

    private void ReportGap(SequenceGap gap, Action<SequenceGap>? callback)
    {
        if (gap.Cause == SequenceGapCause.ServerRestart)
            ClientLog.RestartGap(_logger, gap.SensorId, gap.FromSequence - 1, gap.ToSequence + 1);
        else
            ClientLog.Gap(_logger, gap.SensorId, gap.FromSequence, gap.ToSequence, gap.Cause);
        callback?.Invoke(gap);
        GapDetected?.Invoke(this, new SequenceGapEventArgs(gap));
    }

    private Task OnReconnecting(Exception? error)
    {
        lock (_gate)
        {
            if (_connected.Task.IsCompletedSuccessfully)
                _connected = NewConnectedSource();
        }
        ClientLog.Reconnecting(_logger, error);
        Raise(new ConnectionStateChangedEventArgs(ConnectionChange.Reconnecting, error, null));
        return Task.CompletedTask;
    }

    private Task OnReconnected(string? connectionId)
    {
        lock (_gate)
        {
            _connected.TrySetResult();
        }
        ClientLog.Reconnected(_logger, connectionId);
        Raise(new ConnectionStateChangedEventArgs(ConnectionChange.Reconnected, null, connectionId));
        return Task.CompletedTask;
    }

    private Task OnClosed(Exception? error)
    {
        var closed = new InvalidOperationException("The connection to the SensorHub server closed.", error);
        lock (_gate)
        {
            if (!_connected.TrySetException(closed))
            {
                _connected = NewConnectedSource();
                _connected.SetException(closed);
            }
            _connected.Task.Exception?.Handle(_ => true);
        }
        ClientLog.Disconnected(_logger, error);
        Raise(new ConnectionStateChangedEventArgs(ConnectionChange.Disconnected, error, null));
        return Task.CompletedTask;
    }

    private void Raise(ConnectionStateChangedEventArgs change)
    {
        try
        {
            ConnectionStateChanged?.Invoke(this, change);
        }
#pragma warning disable CA1031 // A subscriber's bug must not break SignalR's reconnect loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ClientLog.HandlerFailed(_logger, nameof(ConnectionStateChanged), ex);
        }
    }

    /// <summary>The hub's address on each server the options name, <see cref="SensorHubClientOptions.Url"/> first, each once.</summary>
    private static Uri[] HubUrlsOf(SensorHubClientOptions options)
    {
        IEnumerable<Uri?> given = options.Url is { } url ? [url, .. options.ServerUrls ?? []] : options.ServerUrls ?? [];
        var hubUrls = new List<Uri>();
        foreach (var server in given)
        {
            if (server is null)
                throw new ArgumentException("options.ServerUrls must not hold null.", nameof(options));
            if (!server.IsAbsoluteUri)
                throw new ArgumentException($"Server URLs must be absolute; '{server}' is not.", nameof(options));
            var hubUrl = new Uri(server.AbsoluteUri.TrimEnd('/') + SensorHubRoutes.Hub);
            if (!hubUrls.Contains(hubUrl))
                hubUrls.Add(hubUrl);
        }
        if (hubUrls.Count == 0)
            throw new ArgumentException("options.Url or options.ServerUrls is required: a server's base address, such as http://localhost:5000.", nameof(options));
        return [.. hubUrls];
    }

    private static TaskCompletionSource NewConnectedSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
