using Microsoft.AspNetCore.SignalR.Protocol;

namespace SensorHub.Server.Hubs;

/// <summary>
/// What SignalR does not tell a hub filter about the call it runs: the invocation id the client gave it (none for a
/// call that wants no answer) and the hub protocol it came in. <see cref="HubInvocationContext"/> carries neither.
/// </summary>
/// <remarks>
/// The hub protocol's wrapper (<c>SkippingHubProtocol</c>) parses every message and sets <see cref="Current"/> when
/// the message is an invocation. SignalR's receive loop parses one message and dispatches it before it parses the
/// next, in one async flow, so the value set at parse flows into that invocation's dispatch, filters and hub method
/// (SignalR starts a stream's invocation, and queues a call that waits for a free invocation slot, from there too,
/// so each keeps the value its own message set). Only invocations set it: stream items and completions leave it as
/// it was, and cost nothing.
/// </remarks>
internal sealed class InvocationOrigin(string protocol, string? invocationId)
{
    private static readonly AsyncLocal<InvocationOrigin?> s_current = new();

    /// <summary>The hub protocol's name: <c>json</c> or <c>messagepack</c>.</summary>
    public string Protocol { get; } = protocol;

    /// <summary>The id the client gave the invocation; <see langword="null"/> for a call sent without one (no answer wanted).</summary>
    public string? InvocationId { get; } = invocationId;

    /// <summary>The invocation being dispatched in this async flow; <see langword="null"/> outside one, or where no message went through the wrapper.</summary>
    public static InvocationOrigin? Current => s_current.Value;

    /// <summary>Called for each message parsed, on the connection's receive loop.</summary>
    public static void Parsed(string protocol, HubMessage message)
    {
        if (message is HubMethodInvocationMessage invocation)
            s_current.Value = new InvocationOrigin(protocol, invocation.InvocationId);
    }
}
