using static SensorHub.Tests.Infrastructure.Fuzz.FuzzValue;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// The hub protocol's messages as <see cref="FuzzValue"/>s, under JSON (an object with named fields) and MessagePack
/// (an array whose first item is the type): well formed here, so that a mutation of one part leaves the rest right.
/// </summary>
/// <remarks>The shapes are those of the hub protocol's specification (dotnet/aspnetcore, <c>HubProtocol.md</c>).</remarks>
internal sealed class HubMessages(Protocol protocol)
{
    public const int InvocationType = 1;
    public const int StreamItemType = 2;
    public const int CompletionType = 3;
    public const int StreamInvocationType = 4;
    public const int CancelInvocationType = 5;
    public const int PingType = 6;
    public const int CloseType = 7;
    public const int AckType = 8;
    public const int SequenceType = 9;

    public Protocol Protocol { get; } = protocol;

    /// <summary>An invocation (<paramref name="stream"/>: a stream invocation), blocking when it has an id.</summary>
    public FuzzValue Invocation(bool stream, string? invocationId, string target, IReadOnlyList<FuzzValue> arguments, IReadOnlyList<string>? streamIds) =>
        Invocation(stream, Of(invocationId), Of(target), new ArrayValue(arguments), streamIds?.Select(Of).ToArray());

    public FuzzValue Invocation(bool stream, FuzzValue invocationId, FuzzValue target, FuzzValue arguments, IReadOnlyList<FuzzValue>? streamIds)
    {
        var type = stream ? StreamInvocationType : InvocationType;
        if (Protocol == Protocol.Json)
        {
            var fields = new List<(string, FuzzValue)> { ("type", Of(type)) };
            if (invocationId is not NullValue)
                fields.Add(("invocationId", invocationId));
            fields.Add(("target", target));
            fields.Add(("arguments", arguments));
            if (streamIds is not null)
                fields.Add(("streamIds", new ArrayValue(streamIds)));
            return MapOf([.. fields]);
        }
        // [type, headers, invocationId, target, [arguments], [streamIds]]; the stream ids may be left out.
        var items = new List<FuzzValue> { Of(type), Headers(), invocationId, target, arguments };
        if (streamIds is not null)
            items.Add(new ArrayValue(streamIds));
        return new ArrayValue(items);
    }

    public FuzzValue StreamItem(string invocationId, FuzzValue item) =>
        Protocol == Protocol.Json
            ? MapOf(("type", Of(StreamItemType)), ("invocationId", Of(invocationId)), ("item", item))
            : ArrayOf(Of(StreamItemType), Headers(), Of(invocationId), item);

    /// <summary>A completion: with an error, with a result, or plain (<paramref name="error"/> and <paramref name="result"/> both null).</summary>
    public FuzzValue Completion(string invocationId, string? error, FuzzValue? result)
    {
        if (Protocol == Protocol.Json)
        {
            var fields = new List<(string, FuzzValue)> { ("type", Of(CompletionType)), ("invocationId", Of(invocationId)) };
            if (error is not null)
                fields.Add(("error", Of(error)));
            if (result is not null)
                fields.Add(("result", result));
            return MapOf([.. fields]);
        }
        // [3, headers, invocationId, resultKind (1 error, 2 void, 3 result), result?]
        return error is not null ? ArrayOf(Of(CompletionType), Headers(), Of(invocationId), Of(1), Of(error))
            : result is not null ? ArrayOf(Of(CompletionType), Headers(), Of(invocationId), Of(3), result)
            : ArrayOf(Of(CompletionType), Headers(), Of(invocationId), Of(2));
    }

    public FuzzValue CancelInvocation(string invocationId) =>
        Protocol == Protocol.Json
            ? MapOf(("type", Of(CancelInvocationType)), ("invocationId", Of(invocationId)))
            : ArrayOf(Of(CancelInvocationType), Headers(), Of(invocationId));

    public FuzzValue Ping() => Protocol == Protocol.Json ? MapOf(("type", Of(PingType))) : ArrayOf(Of(PingType));

    public FuzzValue Close(string? error, bool allowReconnect) =>
        Protocol == Protocol.Json
            ? MapOf(("type", Of(CloseType)), ("error", Of(error)), ("allowReconnect", Of(allowReconnect)))
            : ArrayOf(Of(CloseType), Of(error), Of(allowReconnect));

    /// <summary>An ack or a sequence message, which belong to stateful reconnect (off on this server).</summary>
    public FuzzValue SequenceMessage(bool ack, long sequenceId) =>
        Protocol == Protocol.Json
            ? MapOf(("type", Of(ack ? AckType : SequenceType)), ("sequenceId", Of(sequenceId)))
            : ArrayOf(Of(ack ? AckType : SequenceType), Of(sequenceId));

    /// <summary>A message of a type number no protocol version has.</summary>
    public FuzzValue UnknownType(long type) =>
        Protocol == Protocol.Json ? MapOf(("type", Of(type)), ("invocationId", Of("x"))) : ArrayOf(Of(type), Headers(), Of("x"));

    private static MapValue Headers() => new([]);
}
