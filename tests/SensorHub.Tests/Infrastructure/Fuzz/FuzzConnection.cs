using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>An error a fuzz connection received.</summary>
internal sealed record ReceivedError(ErrorSource Source, string Message);

/// <summary>The server's answer to one invocation: <paramref name="Answered"/> false when the connection went first.</summary>
internal sealed record InvocationReply(bool Answered, string? Error)
{
    public static readonly InvocationReply Gone = new(false, null);
}

/// <summary>
/// One hostile client on its own connection: a token of some kind, a handshake (at times a broken one), then a run of
/// random steps (<c>FuzzConnection.Steps.cs</c>), and an end (cut, closed, or left to the round's end). A reader
/// collects every error the server answers; at the end a probe checks that the server still answers it.
/// Everything it sends is logged, to reproduce a failure; what it sends follows from its seed alone.
/// </summary>
internal sealed partial class FuzzConnection : IAsyncDisposable
{
    private const int MaxLoggedFrames = 300;

    private readonly SensorHubApplication _app;
    private readonly FuzzValues _values;
    private readonly HubMessages _messages;
    private readonly List<string> _sent = [];
    private readonly List<string> _learnedUploads = [];
    private readonly List<string> _learnedSessions = [];
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationReply>> _replies = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _targets = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private RawHubClient? _client;
    private Task? _reader;
    private int _nextId;
    private bool _framingBroken;
    private bool _gone;

    /// <param name="app">The server.</param>
    /// <param name="protocol">The hub protocol it speaks.</param>
    /// <param name="world">What exists on the server.</param>
    /// <param name="seed">Decides everything it sends.</param>
    /// <param name="name">How reports name it.</param>
    public FuzzConnection(SensorHubApplication app, Protocol protocol, FuzzWorld world, int seed, string name)
    {
        _app = app;
        _values = new FuzzValues(new Random(seed), world, protocol);
        _messages = new HubMessages(protocol);
        Name = $"{name} ({protocol}, seed {seed})";
    }

    public string Name { get; }

    public Protocol Protocol => _messages.Protocol;

    /// <summary>Every error the server sent it.</summary>
    public ConcurrentQueue<ReceivedError> Errors { get; } = new();

    /// <summary>The errors it completed its own client-to-server streams with, which SignalR may hand back (see <see cref="ErrorClarity.Problem"/>).</summary>
    public ConcurrentBag<string> SentStreamErrors { get; } = [];

    /// <summary>What it found wrong with the server by itself: a token let in or refused wrongly, a hang, a message that does not parse.</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>What it sent, in order (cut short after <see cref="MaxLoggedFrames"/>).</summary>
    public string SentLog
    {
        get
        {
            lock (_sent)
                return string.Join('\n', _sent);
        }
    }

    /// <summary>
    /// Whether what it sent since the handshake has left the server's parser out of step (a message cut short, a
    /// length that lies) or is bound to close the connection (bytes that are no message): no probe then.
    /// </summary>
    private bool FramingBroken
    {
        get => Volatile.Read(ref _framingBroken);
        set => Volatile.Write(ref _framingBroken, value);
    }

    /// <summary>Whether the connection is gone: the server closed it, or a send failed.</summary>
    private bool Gone
    {
        get => Volatile.Read(ref _gone);
        set => Volatile.Write(ref _gone, value);
    }

    private Random Random => _values.Random;

    /// <summary>Connects, runs its steps and its end. Never throws for what the server does; that goes to <see cref="Problems"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var token = FuzzTokens.Pick(_app, _values);
        Log($"token: {token.Kind}{(token.Accepted ? "" : " (must be refused)")}");
        try
        {
            _client = await RawHubClient.ConnectAsync(_app, token.Token, cancellationToken);
        }
        catch (HubConnectionRefusedException ex)
        {
            if (token.Accepted || ex.StatusCode != 401)
                Problems.Enqueue($"a token '{token.Kind}' got {ex.StatusCode}, expected {(token.Accepted ? "101" : "401")}");
            return;
        }
        if (!token.Accepted)
        {
            Problems.Enqueue($"a token '{token.Kind}' was let in; it must get 401");
            return;
        }

        try
        {
            if (Random.Next(25) == 0)
            {
                // Upgraded, then silent: no handshake before the round's end cuts it.
                Log("no handshake");
                return;
            }
            if (!await HandshakeAsync(cancellationToken))
                return;
            // Some clients never read: the server must not wait for them, nor keep their streams past their connection.
            if (Random.Next(10) > 0)
                _reader = ReadAllAsync(_stop.Token);

            var steps = Random.Next(1, 25);
            for (var i = 0; i < steps && !Gone; i++)
                await StepAsync(cancellationToken);

            if (_reader is not null && !FramingBroken && !Gone && Random.Next(2) == 0)
                await ProbeAsync(cancellationToken);
            await EndAsync(cancellationToken);
        }
        catch (TimeoutException) when (_reader is not null && !Gone && !FramingBroken)
        {
            // A client that reads everything and sends well-framed messages is never held back this long.
            Problems.Enqueue($"a send did not complete within {Timeouts.Default.TotalSeconds} s: the server stopped reading this connection");
            Gone = true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Problems.Enqueue("the round's time limit ended this connection: it hangs");
            Gone = true;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException or TimeoutException)
        {
            // The server closed the connection under a send (or, for a client that never reads, stopped reading it
            // until it reads, as SignalR does): nothing more to do on it.
            Gone = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync();
        await _stop.CancelAsync();
        if (_reader is not null)
            await _reader;
        _stop.Dispose();
    }

    /// <summary>A valid handshake (and its answer checked), or now and then a broken one, after which the connection is done.</summary>
    private async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        var name = Protocol == Protocol.Json ? "json" : "messagepack";
        if (Random.Next(12) == 0)
        {
            var bad = Random.Next(6) switch
            {
                0 => $$"""{"protocol":"{{ErrorClarity.Scrub(_values.Text(20))}}","version":1}""",
                1 => $$"""{"protocol":"{{name}}","version":{{_values.Pick(0, 2, 99, -1)}}}""",
                2 => "{\"protocol\":",
                3 => "not json at all",
                4 => $$"""{"version":1}""",
                _ => $$"""{"protocol":{{_values.Pick("1", "null", "[]")}},"version":"one"}""",
            };
            await SendAsync("bad handshake", Encoding.UTF8.GetBytes(bad + "\u001e"), cancellationToken);
            var answer = await ReadHandshakeAnswerAsync(cancellationToken);
            if (answer is not null && HandshakeError(answer) is { } error)
                Errors.Enqueue(new ReceivedError(ErrorSource.Handshake, error));
            return false;
        }

        await SendAsync("handshake", Encoding.UTF8.GetBytes($$"""{"protocol":"{{name}}","version":1}""" + "\u001e"), cancellationToken);
        var response = await ReadHandshakeAnswerAsync(cancellationToken);
        if (response != "{}")
        {
            Problems.Enqueue($"a valid handshake was answered {response ?? "by closing the connection"}");
            return false;
        }
        return true;
    }

    private async Task<string?> ReadHandshakeAnswerAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeouts.Default);
        try
        {
            var record = await _client!.ReadMessageOrEndAsync(record: true, timeout.Token);
            return record is null ? null : Encoding.UTF8.GetString(record);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Problems.Enqueue($"the handshake got no answer within {Timeouts.Default.TotalSeconds} s");
            return null;
        }
    }

    private string? HandshakeError(string answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            return document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (JsonException)
        {
            Problems.Enqueue($"the handshake's answer is no JSON: {answer}");
            return null;
        }
    }

    /// <summary>
    /// A call every connection may make, answered at once whatever the token's roles: the server must answer it (or
    /// have closed the connection for what came before), or the connection hangs.
    /// </summary>
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var id = NextId("probe");
        var reply = Expect(id, "ListSessions");
        await SendMessageAsync("probe", _messages.Invocation(stream: false, id, "ListSessions", [], null), cancellationToken);
        await AwaitReplyAsync("the probe (ListSessions)", reply, cancellationToken);
    }

    private async Task EndAsync(CancellationToken cancellationToken)
    {
        switch (Random.Next(5))
        {
            case 0:
                Log("end: cut");
                _client!.Abort();
                break;
            case 1:
                Log("end: close message");
                await SendMessageAsync("close", _messages.Close(null, allowReconnect: false), cancellationToken);
                break;
            case 2:
                Log("end: WebSocket close");
                await _client!.CloseAsync(cancellationToken);
                break;
            default:
                // Left open while the round's other connections go on, then cut with them.
                Log("end: left open until the round ends");
                break;
        }
    }

    private string NextId(string prefix) => $"{prefix}{_nextId++}";

    private Task SendMessageAsync(string what, FuzzValue message, CancellationToken cancellationToken) =>
        SendAsync(what, FuzzWire.Frame(Protocol, message), cancellationToken);

    private async Task SendAsync(string what, byte[] frame, CancellationToken cancellationToken, bool endOfMessage = true)
    {
        Log($"{what}: {FuzzLog.Preview(Protocol, frame)}");
        await _client!.SendRawAsync(frame, Protocol == Protocol.Json ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage, cancellationToken);
    }

    private void Log(string line)
    {
        lock (_sent)
        {
            if (_sent.Count < MaxLoggedFrames)
                _sent.Add(line);
            else if (_sent.Count == MaxLoggedFrames)
                _sent.Add("... (more)");
        }
    }
}
