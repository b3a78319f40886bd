using System.Text.Json;
using MessagePack;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// A message of a type the hub protocol does not know is skipped, as the protocols mean it to be, and the connection
/// goes on: SignalR alone would parse it again and again and never handle another message of that connection
/// (dotnet/aspnetcore#69285). Found by the hub fuzz.
/// </summary>
public sealed class UnknownMessageTypeTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    public static TheoryData<Transport, Protocol, bool> Cases
    {
        get
        {
            var data = new TheoryData<Transport, Protocol, bool>();
            foreach (var transport in Enum.GetValues<Transport>())
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                {
                    data.Add(transport, protocol, false);
                    data.Add(transport, protocol, true);
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MessageOfAnUnknownTypeIsSkippedAndTheNextIsAnswered(Transport transport, Protocol protocol, bool inOneFrame)
    {
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var client = await RawHubClient.ConnectAsync(apps[transport], cts.Token);
        await client.HandshakeAsync(protocol, cts.Token);

        if (inOneFrame)
        {
            // The unknown message and the call arrive in one read.
            await SendAsync(client, protocol, [UnknownType(protocol), ListSessions(protocol, "1")], cts.Token);
        }
        else
        {
            // The unknown message is all the server has until the call comes.
            await SendAsync(client, protocol, [UnknownType(protocol)], cts.Token);
            await Task.Delay(50, cts.Token);
            await SendAsync(client, protocol, [ListSessions(protocol, "1")], cts.Token);
        }

        Assert.Equal("1", await ReadCompletionIdAsync(client, protocol, cts.Token));
    }

    private static byte[] UnknownType(Protocol protocol) => protocol == Protocol.Json
        ? """{"type":99,"invocationId":"x"}"""u8.ToArray()
        : MessagePackSerializer.Serialize<object[]>([99, new Dictionary<string, string>(), "x"]);

    private static byte[] ListSessions(Protocol protocol, string invocationId) => protocol == Protocol.Json
        ? JsonSerializer.SerializeToUtf8Bytes(new { type = 1, invocationId, target = "ListSessions", arguments = Array.Empty<object>() })
        : MessagePackSerializer.Serialize<object[]>([1, new Dictionary<string, string>(), invocationId, "ListSessions", Array.Empty<object>()]);

    /// <summary>Sends the messages, each framed by its protocol, in one WebSocket frame.</summary>
    private static Task SendAsync(RawHubClient client, Protocol protocol, byte[][] messages, CancellationToken cancellationToken)
    {
        var frame = messages.SelectMany(message => protocol == Protocol.Json ? [.. message, (byte)0x1e] : LengthPrefixed(message)).ToArray();
        return client.SendRawAsync(
            frame, protocol == Protocol.Json ? System.Net.WebSockets.WebSocketMessageType.Text : System.Net.WebSockets.WebSocketMessageType.Binary,
            endOfMessage: true, cancellationToken);
    }

    /// <summary>A MessagePack message with its length in front: a VarInt, seven bits a byte, least significant first.</summary>
    private static byte[] LengthPrefixed(byte[] message)
    {
        var framed = new List<byte>(message.Length + 5);
        var length = (uint)message.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            framed.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);
        framed.AddRange(message);
        return [.. framed];
    }

    /// <summary>The invocation id of the first completion the server sends (pings are passed over).</summary>
    private static async Task<string> ReadCompletionIdAsync(RawHubClient client, Protocol protocol, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (protocol == Protocol.Json)
            {
                using var message = JsonDocument.Parse(await client.ReadJsonMessageAsync(cancellationToken));
                if (message.RootElement.GetProperty("type").GetInt32() == 3)
                    return message.RootElement.GetProperty("invocationId").GetString()!;
            }
            else
            {
                var message = MessagePackSerializer.Deserialize<object[]>(await client.ReadMessagePackMessageAsync(cancellationToken), cancellationToken: cancellationToken);
                if (Convert.ToInt32(message[0], System.Globalization.CultureInfo.InvariantCulture) == 3)
                    return (string)message[2];
            }
        }
    }
}
