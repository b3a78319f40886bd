using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using MessagePack;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// A SignalR client written by hand on a bare WebSocket, for what the .NET client hides: the exact bytes of each
/// message, and a client that stops reading. It speaks the JSON or the MessagePack hub protocol, skips negotiation
/// (the server accepts that on WebSockets), and reads only when a test asks it to.
/// </summary>
public sealed class RawHubClient : IAsyncDisposable
{
    /// <summary>Writes one MessagePack hub message's body.</summary>
    public delegate void MessagePackWrite(ref MessagePackWriter writer);

    private const byte RecordSeparator = 0x1e;

    private readonly WebSocket _socket;
    private readonly Socket? _tcp;
    private byte[] _pending = new byte[16 * 1024];
    private int _pendingStart;
    private int _pendingEnd;

    private RawHubClient(WebSocket socket, Socket? tcp)
    {
        _socket = socket;
        _tcp = tcp;
    }

    /// <summary>The hub protocol agreed in the handshake.</summary>
    public Protocol Protocol { get; private set; }

    /// <summary>A WebSocket to the hub over the app's own transport: the test server's client, or a hand-made TCP one.</summary>
    public static Task<RawHubClient> ConnectAsync(SensorHubApplication app, CancellationToken cancellationToken) =>
        ConnectAsync(app, accessToken: null, cancellationToken);

    /// <summary>
    /// A WebSocket to the hub with <paramref name="accessToken"/> in the query string, as browsers send it (none: no
    /// <c>access_token</c> at all; an empty one is sent as it is).
    /// </summary>
    /// <exception cref="HubConnectionRefusedException">The server answered the upgrade with another status than 101.</exception>
    public static async Task<RawHubClient> ConnectAsync(SensorHubApplication app, string? accessToken, CancellationToken cancellationToken)
    {
        var hubUri = accessToken is null
            ? app.HubUri
            : new UriBuilder(app.HubUri) { Query = $"access_token={Uri.EscapeDataString(accessToken)}" }.Uri;
        if (app.Transport == Transport.Kestrel)
            return await ConnectOverTcpAsync(hubUri, receiveBufferSize: null, cancellationToken);
        var uri = new UriBuilder(hubUri) { Scheme = "ws" }.Uri;
        try
        {
            var socket = await app.Server.CreateWebSocketClient().ConnectAsync(uri, cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
            return new RawHubClient(socket, tcp: null);
        }
        catch (InvalidOperationException ex) when (HubConnectionRefusedException.StatusIn(ex.Message, "status code: ") is { } status)
        {
            // The test server's client says "Incomplete handshake, status code: 401".
            throw new HubConnectionRefusedException(status, ex.Message);
        }
    }

    /// <summary>
    /// Connects a TCP socket to the hub on Kestrel, with <paramref name="receiveBufferSize"/> set before connecting so that
    /// the window it advertises stays that small, and upgrades it to a WebSocket by hand (HTTP/1.1, RFC 6455).
    /// </summary>
    public static async Task<RawHubClient> ConnectOverTcpAsync(Uri hubUri, int? receiveBufferSize, CancellationToken cancellationToken)
    {
        var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (receiveBufferSize is { } size)
                tcp.ReceiveBufferSize = size;
            await tcp.ConnectAsync(hubUri.Host, hubUri.Port, cancellationToken).AsTask().WaitAsync(Timeouts.Default, cancellationToken);
            var stream = new NetworkStream(tcp, ownsSocket: false);

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request =
                $"GET {hubUri.PathAndQuery} HTTP/1.1\r\n" +
                $"Host: {hubUri.Authority}\r\n" +
                "Upgrade: websocket\r\n" +
                "Connection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\n" +
                "Sec-WebSocket-Version: 13\r\n" +
                "\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).AsTask().WaitAsync(Timeouts.Default, cancellationToken);

            var head = await ReadResponseHeadAsync(stream, cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);
            var lines = head.Split("\r\n");
            if (!lines[0].StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw HubConnectionRefusedException.StatusIn(lines[0], "HTTP/1.1 ") is { } status
                    ? new HubConnectionRefusedException(status, $"The WebSocket upgrade was refused:\n{head}")
                    : new InvalidOperationException($"The WebSocket upgrade was refused:\n{head}");
            }
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for Sec-WebSocket-Accept; it guards nothing here.
            var expectedAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
            var accept = lines.Skip(1)
                .Select(line => line.Split(':', 2))
                .Where(parts => parts.Length == 2 && parts[0].Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
                .Select(parts => parts[1].Trim())
                .SingleOrDefault();
            if (accept != expectedAccept)
                throw new InvalidOperationException($"Sec-WebSocket-Accept is '{accept}', expected '{expectedAccept}'.");

            // No keep-alive: a client that stops reading must also stop writing, so that it looks simply stuck.
            var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
            return new RawHubClient(socket, tcp);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends the handshake request (JSON text under either protocol) and checks the server's answer.</summary>
    public async Task HandshakeAsync(Protocol protocol, CancellationToken cancellationToken)
    {
        Protocol = protocol;
        var name = protocol == Protocol.Json ? "json" : "messagepack";
        await SendAsync(Encoding.UTF8.GetBytes($$"""{"protocol":"{{name}}","version":1}""" + "\u001e"), WebSocketMessageType.Text, cancellationToken);
        var response = await ReadRecordAsync(cancellationToken);
        if (response != "{}")
            throw new InvalidOperationException($"The handshake failed: {response}");
    }

    /// <summary>Starts <c>Subscribe(sensorId, options)</c> as a stream invocation; options are left out when both are null.</summary>
    public Task SubscribeAsync(string invocationId, string sensorId, long? fromSequence, CancellationToken cancellationToken)
    {
        if (Protocol == Protocol.Json)
        {
            var options = fromSequence is { } from ? $$"""{"fromSequence":{{from}}}""" : "null";
            return SendJsonAsync(
                $$"""{"type":4,"invocationId":"{{invocationId}}","target":"Subscribe","arguments":["{{sensorId}}",{{options}}]}""",
                cancellationToken);
        }
        return SendMessagePackAsync(
            (ref MessagePackWriter writer) =>
            {
                // StreamInvocation: [4, headers, invocationId, target, [arguments], [streamIds]].
                writer.WriteArrayHeader(6);
                writer.Write(4);
                writer.WriteMapHeader(0);
                writer.Write(invocationId);
                writer.Write("Subscribe");
                writer.WriteArrayHeader(2);
                writer.Write(sensorId);
                if (fromSequence is { } from)
                {
                    writer.WriteMapHeader(1);
                    writer.Write("fromSequence");
                    writer.Write(from);
                }
                else
                {
                    writer.WriteNil();
                }
                writer.WriteArrayHeader(0);
            },
            cancellationToken);
    }

    /// <summary>Cancels a stream invocation.</summary>
    public Task CancelInvocationAsync(string invocationId, CancellationToken cancellationToken)
    {
        if (Protocol == Protocol.Json)
            return SendJsonAsync($$"""{"type":5,"invocationId":"{{invocationId}}"}""", cancellationToken);
        return SendMessagePackAsync(
            (ref MessagePackWriter writer) =>
            {
                // CancelInvocation: [5, headers, invocationId].
                writer.WriteArrayHeader(3);
                writer.Write(5);
                writer.WriteMapHeader(0);
                writer.Write(invocationId);
            },
            cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> as they are, as one WebSocket frame of <paramref name="type"/>: for what no
    /// well-behaved client sends (a message cut in two frames, broken framing, bytes that are no message at all).
    /// </summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, WebSocketMessageType type, bool endOfMessage, CancellationToken cancellationToken) =>
        await _socket.SendAsync(bytes, type, endOfMessage, cancellationToken).AsTask().WaitAsync(Timeouts.Default, cancellationToken);

    /// <summary>
    /// Writes <paramref name="bytes"/> straight onto the TCP connection under the WebSocket (Kestrel only), for frames
    /// that a WebSocket client would never make: unmasked, with reserved bits or opcodes, with lengths that lie.
    /// </summary>
    public async Task SendTcpBytesAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (_tcp is null)
            throw new InvalidOperationException("Raw TCP bytes need a client connected over TCP (Kestrel).");
        await _tcp.SendAsync(bytes, SocketFlags.None, cancellationToken).AsTask().WaitAsync(Timeouts.Default, cancellationToken);
    }

    /// <summary>Whether this client has a TCP connection of its own under the WebSocket (Kestrel).</summary>
    public bool IsOverTcp => _tcp is not null;

    /// <summary>
    /// The next message the server sends: a JSON record (the handshake's answer, or any message under JSON) without its
    /// separator when <paramref name="record"/>, else a MessagePack message without its length prefix; or
    /// <see langword="null"/> once the server has closed the WebSocket. Waits as long as <paramref name="cancellationToken"/> lets it.
    /// </summary>
    public async Task<byte[]?> ReadMessageOrEndAsync(bool record, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = record ? TakeRecord() : TakeMessagePack();
            if (message is not null)
                return message;
            var result = await _socket.ReceiveAsync(FreeSpace(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
                return null;
            _pendingEnd += result.Count;
        }
    }

    /// <summary>Sends one JSON hub message; the record separator is added here.</summary>
    public Task SendJsonAsync(string message, CancellationToken cancellationToken) =>
        SendAsync(Encoding.UTF8.GetBytes(message + "\u001e"), WebSocketMessageType.Text, cancellationToken);

    /// <summary>Sends one MessagePack hub message; the VarInt length prefix is added here.</summary>
    public Task SendMessagePackAsync(MessagePackWrite write, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(body);
        write(ref writer);
        writer.Flush();

        var message = new List<byte>(body.WrittenCount + 5);
        var length = (uint)body.WrittenCount;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            message.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);
        message.AddRange(body.WrittenSpan);
        return SendAsync([.. message], WebSocketMessageType.Binary, cancellationToken);
    }

    /// <summary>The next JSON hub message, as text without its record separator.</summary>
    public Task<string> ReadJsonMessageAsync(CancellationToken cancellationToken) => ReadRecordAsync(cancellationToken);

    /// <summary>The next MessagePack hub message, without its length prefix.</summary>
    public async Task<byte[]> ReadMessagePackMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TakeMessagePack() is { } message)
                return message;
            await ReceiveMoreAsync(cancellationToken);
        }
    }

    /// <summary>Starts the WebSocket's close handshake, as a client that leaves politely does.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken) =>
        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);

    /// <summary>Cuts the connection without a close handshake: a client that stopped reading cannot finish one.</summary>
    public void Abort()
    {
        _socket.Abort();
        if (_tcp is not null)
        {
            // Unread data in the receive buffer makes the kernel answer with a reset, which the server sees at once.
            _tcp.Close();
        }
    }

    public ValueTask DisposeAsync()
    {
        Abort();
        _socket.Dispose();
        _tcp?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task<string> ReadResponseHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        // One byte at a time, so that nothing after the head is taken from the WebSocket that follows it.
        var head = new List<byte>(512);
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (head.Count > 16 * 1024)
                throw new InvalidOperationException("The upgrade response's head is longer than 16 KiB.");
            if (await stream.ReadAsync(one, cancellationToken) == 0)
                throw new InvalidOperationException($"The server closed the connection during the upgrade:\n{Encoding.ASCII.GetString([.. head])}");
            head.Add(one[0]);
        }
        return Encoding.ASCII.GetString([.. head]).TrimEnd();
    }

    private async Task SendAsync(byte[] message, WebSocketMessageType type, CancellationToken cancellationToken) =>
        await _socket.SendAsync(message.AsMemory(), type, endOfMessage: true, cancellationToken).AsTask().WaitAsync(Timeouts.Default, cancellationToken);

    private async Task<string> ReadRecordAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TakeRecord() is { } record)
                return Encoding.UTF8.GetString(record);
            await ReceiveMoreAsync(cancellationToken);
        }
    }

    /// <summary>The next whole JSON record in what was received, without its separator; <see langword="null"/> until one is whole.</summary>
    private byte[]? TakeRecord()
    {
        var index = Array.IndexOf(_pending, RecordSeparator, _pendingStart, _pendingEnd - _pendingStart);
        if (index < 0)
            return null;
        var record = _pending.AsSpan(_pendingStart, index - _pendingStart).ToArray();
        _pendingStart = index + 1;
        return record;
    }

    /// <summary>The next whole MessagePack message in what was received, without its prefix; <see langword="null"/> until one is whole.</summary>
    private byte[]? TakeMessagePack()
    {
        // The prefix is a VarInt of at most five bytes, seven bits each, least significant first.
        var available = _pendingEnd - _pendingStart;
        long length = 0;
        var prefix = 0;
        var complete = false;
        while (prefix < Math.Min(available, 5))
        {
            var b = _pending[_pendingStart + prefix];
            length |= (long)(b & 0x7f) << (7 * prefix);
            prefix++;
            if ((b & 0x80) == 0)
            {
                complete = true;
                break;
            }
        }
        if (!complete && prefix == 5)
            throw new InvalidOperationException("A MessagePack length prefix is longer than five bytes.");
        if (!complete || available - prefix < length)
            return null;
        var message = _pending.AsSpan(_pendingStart + prefix, (int)length).ToArray();
        _pendingStart += prefix + (int)length;
        return message;
    }

    /// <summary>Room after what was received and not yet taken, moved to the front of the buffer first.</summary>
    private Memory<byte> FreeSpace()
    {
        if (_pendingStart > 0)
        {
            Array.Copy(_pending, _pendingStart, _pending, 0, _pendingEnd - _pendingStart);
            _pendingEnd -= _pendingStart;
            _pendingStart = 0;
        }
        if (_pendingEnd == _pending.Length)
            Array.Resize(ref _pending, _pending.Length * 2);
        return _pending.AsMemory(_pendingEnd);
    }

    private async Task ReceiveMoreAsync(CancellationToken cancellationToken)
    {
        var result = await _socket.ReceiveAsync(FreeSpace(), cancellationToken).AsTask().WaitAsync(Timeouts.Default, cancellationToken);
        if (result.MessageType == WebSocketMessageType.Close)
            throw new InvalidOperationException($"The server closed the WebSocket: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
        _pendingEnd += result.Count;
    }
}
