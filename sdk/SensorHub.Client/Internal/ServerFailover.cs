using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.Extensions.Logging;

namespace SensorHub.Client.Internal;

/// <summary>
/// Makes each connection of the client's one hub connection (the start and every reconnection SignalR makes) to one of
/// the servers it was given, and decides which: the same server as before while it answers, the next one in the list
/// once a connection to it cannot be made, or once it said it cannot serve (<c>backend_unavailable</c>).
/// </summary>
/// <remarks>
/// <para>
/// SignalR's own connection factory dials the one URL it was built with; this one takes its place in the hub
/// connection's services, so that SignalR's reconnect loop (its policy, its <c>Reconnecting</c> and <c>Reconnected</c>
/// events) stays as it is and only the address changes between attempts. Any node can take any connection because the
/// client uses WebSockets without negotiation: there is no negotiated connection id that only one node knows.
/// </para>
/// <para>
/// Leaving a server whose connection is up means closing that connection under SignalR's feet: SignalR then sees a
/// drop and reconnects, to the next server. Every operation on the connection resumes as after any drop.
/// </para>
/// </remarks>
internal sealed class ServerFailover(
    IReadOnlyList<Uri> hubUrls, Func<Uri, HttpConnectionOptions> optionsFor, ILoggerFactory loggerFactory, ILogger logger) : IConnectionFactory
{
    private readonly Lock _gate = new();
    // The server the next attempt dials.
    private int _next;
    // The connection that is up (or was, until SignalR noticed it went), its server, and how many were made before it.
    private ConnectionContext? _live;
    private int _liveIndex;
    private long _generation;

    /// <summary>The hub addresses, in the order they are tried.</summary>
    public IReadOnlyList<Uri> HubUrls => hubUrls;

    /// <summary>The hub address of the connection that is up, or of the next attempt's.</summary>
    public Uri CurrentUrl
    {
        get
        {
            lock (_gate)
                return hubUrls[_live is null ? _next : _liveIndex];
        }
    }

    /// <summary>Counts the connections made: an operation notes it when it opens, to name the connection an answer came on.</summary>
    public long Generation
    {
        get
        {
            lock (_gate)
                return _generation;
        }
    }

    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        int index;
        lock (_gate)
            index = _next;
        var url = hubUrls[index];
        var connection = new HttpConnection(optionsFor(url), loggerFactory);
        try
        {
            await connection.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            int next;
            lock (_gate)
            {
                // Unless another path moved on meanwhile, the next attempt goes to the next server.
                if (_next == index)
                    _next = (index + 1) % hubUrls.Count;
                next = _next;
            }
            if (hubUrls.Count > 1 && !cancellationToken.IsCancellationRequested)
                ClientLog.ServerUnreachable(logger, url, hubUrls[next], ex);
            throw;
        }
        lock (_gate)
        {
            _live = connection;
            _liveIndex = index;
            _generation++;
        }
        return connection;
    }

    /// <summary>
    /// The server of connection <paramref name="generation"/> answered that it cannot serve: with other servers to go
    /// to, closes that connection (SignalR reconnects, to the next server) and says so; with one server, or when that
    /// connection is gone already (another operation left it first), does nothing.
    /// </summary>
    public bool Leave(long generation, string why)
    {
        ConnectionContext live;
        Uri from, to;
        lock (_gate)
        {
            if (hubUrls.Count < 2 || generation != _generation || _live is null)
                return false;
            live = _live;
            from = hubUrls[_liveIndex];
            _live = null;
            _next = (_liveIndex + 1) % hubUrls.Count;
            to = hubUrls[_next];
        }
        ClientLog.LeavingServer(logger, from, to, why);
        _ = CloseAsync(live);
        return true;
    }

    private async Task CloseAsync(ConnectionContext connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Closing a connection that is being left: whatever fails, SignalR's drop handling follows.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ClientLog.LeaveFailed(logger, ex);
        }
    }
}
