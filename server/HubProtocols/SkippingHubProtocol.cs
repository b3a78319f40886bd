using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using SensorHub.Server.Hubs;

namespace SensorHub.Server.HubProtocols;

/// <summary>
/// A hub protocol that reads on past the messages its inner protocol ignores. SignalR's JSON and MessagePack protocols
/// take a whole message of a type they do not know and return no message, so that newer clients' messages are
/// skipped; but SignalR's receive loop, when <c>MaximumReceiveMessageSize</c> is set (always, here), takes "no message"
/// for "not whole yet" and parses the same bytes again on every read: the connection never handles another message,
/// and hangs until its client timeout (dotnet/aspnetcore#69285, open in 10.0). This parses the next message at once.
/// It also tells the invocation it parses where it came from (<see cref="InvocationOrigin"/>): its id and this protocol.
/// </summary>
/// <remarks>
/// Whatever the loop does with the position returned by a <c>false</c>, nothing is lost: with the size limit it keeps
/// the bytes and parses them again with what follows, and the ignored message is skipped again; without the limit it
/// takes the position, past the ignored message. Only whole messages are ever skipped, one by one, so the size limit
/// still applies to every message.
/// </remarks>
internal sealed class SkippingHubProtocol(IHubProtocol inner) : IHubProtocol
{
    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        while (true)
        {
            var length = input.Length;
            if (inner.TryParseMessage(ref input, binder, out message))
            {
                InvocationOrigin.Parsed(inner.Name, message);
                return true;
            }
            // Nothing taken: the next message is not whole yet. Something taken: it was a message to ignore.
            if (input.Length == length)
                return false;
        }
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(message);
}
