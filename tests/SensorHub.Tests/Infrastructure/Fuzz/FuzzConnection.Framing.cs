using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using SensorHub.Contracts;

namespace SensorHub.Tests.Infrastructure.Fuzz;

internal sealed partial class FuzzConnection
{
    /// <summary>
    /// Framing that a protocol's parser must survive: bytes that are no message, a record separator missing or alone,
    /// a length prefix that lies or runs past five bytes, invalid UTF-8 in JSON; and framing that is odd but right (a
    /// message cut over two WebSocket frames, several messages in one, a frame of the other WebSocket type), after
    /// which the connection must go on as before.
    /// </summary>
    private Task BadFramingAsync(CancellationToken cancellationToken) =>
        Protocol == Protocol.Json ? BadJsonFramingAsync(cancellationToken) : BadMessagePackFramingAsync(cancellationToken);

    private async Task BadJsonFramingAsync(CancellationToken cancellationToken)
    {
        var valid = FuzzWire.Frame(Protocol, _messages.Invocation(stream: false, InvocationId(), SensorHubMethods.ListSessions, [], null));
        switch (Random.Next(8))
        {
            case 0:
                FramingBroken = true;
                await SendAsync("random bytes", [.. _values.Bytes(Random.Next(1, 200)), FuzzWire.RecordSeparator], cancellationToken);
                break;
            case 1:
                // The next message's record separator ends this one: the two together are no JSON.
                FramingBroken = true;
                await SendAsync("message without its separator", valid[..^1], cancellationToken);
                break;
            case 2:
                FramingBroken = true;
                await SendAsync("separator alone", [FuzzWire.RecordSeparator], cancellationToken);
                break;
            case 3:
                FramingBroken = true;
                await SendAsync("JSON cut short", [.. valid[..(valid.Length / 2)], FuzzWire.RecordSeparator], cancellationToken);
                break;
            case 4:
                FramingBroken = true;
                var text = Encoding.UTF8.GetBytes("""{"type":1,"invocationId":"u","target":"GetUploadStatus","arguments":["X"]}""");
                var at = Array.IndexOf(text, (byte)'X');
                await SendAsync("invalid UTF-8 in a string", [.. text[..at], .. _values.InvalidUtf8(), .. text[(at + 1)..], FuzzWire.RecordSeparator], cancellationToken);
                break;
            default:
                await OddButRightFramingAsync(valid, cancellationToken);
                break;
        }
    }

    private async Task BadMessagePackFramingAsync(CancellationToken cancellationToken)
    {
        var body = FuzzWire.MessagePack(_messages.Invocation(stream: false, InvocationId(), SensorHubMethods.ListSessions, [], null));
        var valid = FuzzWire.Frame(Protocol, _messages.Invocation(stream: false, InvocationId(), SensorHubMethods.ListSessions, [], null));
        switch (Random.Next(9))
        {
            case 0:
                FramingBroken = true;
                var garbage = _values.Bytes(Random.Next(1, 200));
                await SendAsync("random bytes with a right prefix", [.. FuzzWire.LengthPrefix((uint)garbage.Length), .. garbage], cancellationToken);
                break;
            case 1:
                // Random bytes inside a real message: its structure kept, some of its bytes changed.
                FramingBroken = true;
                var changed = body.ToArray();
                for (var i = Random.Next(1, 4); i > 0; i--)
                    changed[Random.Next(changed.Length)] = (byte)Random.Next(256);
                await SendAsync("a message with random bytes in it", [.. FuzzWire.LengthPrefix((uint)changed.Length), .. changed], cancellationToken);
                break;
            case 2:
                FramingBroken = true;
                await SendAsync("a prefix longer than the message", [.. FuzzWire.LengthPrefix((uint)body.Length + (uint)Random.Next(1, 100_000)), .. body], cancellationToken);
                break;
            case 3:
                FramingBroken = true;
                await SendAsync("a prefix of six bytes", [0x80, 0x80, 0x80, 0x80, 0x80, 0x01, .. body], cancellationToken);
                break;
            case 4:
                FramingBroken = true;
                await SendAsync("an empty message", [0x00], cancellationToken);
                break;
            case 5:
                FramingBroken = true;
                await SendAsync("a prefix of 2 GB", [.. FuzzWire.LengthPrefix(int.MaxValue), .. body], cancellationToken);
                break;
            case 6:
                FramingBroken = true;
                await SendAsync("JSON on a MessagePack connection", Encoding.UTF8.GetBytes("""{"type":6}""" + "\u001e"), cancellationToken);
                break;
            default:
                await OddButRightFramingAsync(valid, cancellationToken);
                break;
        }
    }

    /// <summary>Framing that is right, though no usual client makes it; the connection goes on.</summary>
    private async Task OddButRightFramingAsync(byte[] valid, CancellationToken cancellationToken)
    {
        switch (Random.Next(3))
        {
            case 0:
                var cut = Random.Next(1, valid.Length);
                await SendAsync("a message over two frames (1)", valid[..cut], cancellationToken, endOfMessage: false);
                await SendAsync("a message over two frames (2)", valid[cut..], cancellationToken);
                break;
            case 1:
                var ping = FuzzWire.Frame(Protocol, _messages.Ping());
                await SendAsync("three messages in one frame", [.. ping, .. valid, .. ping], cancellationToken);
                break;
            default:
                // A binary frame under JSON, a text one under MessagePack: SignalR reads the bytes either way, but a
                // WebSocket that checks text frames for UTF-8 (Kestrel's) closes on MessagePack's bytes.
                if (Protocol == Protocol.MessagePack)
                    FramingBroken = true;
                Log($"the other frame type: {FuzzLog.Preview(Protocol, valid)}");
                var type = Protocol == Protocol.Json ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
                await _client!.SendRawAsync(valid, type, endOfMessage: true, cancellationToken);
                break;
        }
    }

    /// <summary>
    /// WebSocket frames no WebSocket client makes, written on the TCP connection under it (Kestrel only): reserved
    /// bits, unknown opcodes, an unmasked frame, an over-long control frame, a continuation with nothing to continue,
    /// a text frame of invalid UTF-8, a length that lies. The server's WebSocket closes; the hub must not mind.
    /// </summary>
    private async Task SocketGarbageAsync(CancellationToken cancellationToken)
    {
        FramingBroken = true;
        var payload = FuzzWire.Frame(Protocol, _messages.Ping());
        var (what, frame) = Random.Next(8) switch
        {
            0 => ("reserved bits set", MaskedFrame(0x70 | 0x82, payload)),
            1 => ("unknown opcode", MaskedFrame(0x80 | 0x03, payload)),
            2 => ("an unmasked frame", [0x82, (byte)payload.Length, .. payload]),
            3 => ("a ping of 200 bytes", MaskedFrame(0x89, new byte[200])),
            4 => ("a continuation with nothing to continue", MaskedFrame(0x80, payload)),
            5 => ("a text frame of invalid UTF-8", MaskedFrame(0x81, [0xff, 0xfe, 0xc0, 0xaf, FuzzWire.RecordSeparator])),
            6 => ("a length of 2^62 bytes", [0x82, 0xff, .. BigEndian(1UL << 62), 1, 2, 3, 4, 5, 6, 7, 8]),
            _ => ("random bytes", _values.Bytes(Random.Next(1, 64))),
        };
        Log($"socket: {what}: {Convert.ToHexStringLower(frame.AsSpan(0, Math.Min(frame.Length, 64)))}");
        await _client!.SendTcpBytesAsync(frame, cancellationToken);
    }

    /// <summary>A client frame with its mask (RFC 6455 §5.3): first byte as given, a random mask, the payload masked.</summary>
    private byte[] MaskedFrame(int firstByte, byte[] payload)
    {
        var header = new List<byte> { (byte)firstByte };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        var mask = _values.Bytes(4);
        var masked = payload.Select((b, i) => (byte)(b ^ mask[i % 4])).ToArray();
        return [.. header, .. mask, .. masked];
    }

    private static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }
}
