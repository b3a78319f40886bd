using SensorHub.Contracts;
using static SensorHub.Tests.Infrastructure.Fuzz.FuzzValue;

namespace SensorHub.Tests.Infrastructure.Fuzz;

internal sealed partial class FuzzConnection
{
    /// <summary>How a hub method is invoked: a call, a server-to-client stream, or a call that takes a client-to-server stream.</summary>
    private enum MethodKind
    {
        Call,
        ServerStream,
        ClientStream,
    }

    /// <summary>A hub method of the contract and plausible arguments for it (the hub contract in docs/contract.md).</summary>
    private sealed record MethodShape(string Name, MethodKind Kind, Func<FuzzConnection, FuzzValue[]> Arguments);

    private static readonly MethodShape[] s_methods =
    [
        new(SensorHubMethods.Subscribe, MethodKind.ServerStream, c => [c._values.SensorId(), c._values.SubscribeOptions()]),
        new(SensorHubMethods.SubscribeBatches, MethodKind.ServerStream, c => [c._values.SensorId(), c._values.SubscribeOptions()]),
        new(SensorHubMethods.SubscribeMany, MethodKind.ServerStream, c => [c._values.SensorPattern(), c._values.SubscribeManyOptions()]),
        new(SensorHubMethods.ListSensors, MethodKind.Call, _ => []),
        new(SensorHubMethods.Publish, MethodKind.ClientStream, _ => []),
        new(SensorHubMethods.PublishBatches, MethodKind.ClientStream, _ => []),
        new(SensorHubMethods.CreateSession, MethodKind.Call, c => [c._values.CreateSessionRequest()]),
        new(SensorHubMethods.JoinSession, MethodKind.ServerStream, c => [c.SessionId()]),
        new(SensorHubMethods.Annotate, MethodKind.Call, c => [c.SessionId(), c._values.AnnotationInput()]),
        new(SensorHubMethods.SetSessionSensors, MethodKind.Call, c => [c.SessionId(), c._values.SensorIds()]),
        new(SensorHubMethods.EndSession, MethodKind.Call, c => [c.SessionId()]),
        new(SensorHubMethods.ListSessions, MethodKind.Call, _ => []),
        new(SensorHubMethods.BeginUpload, MethodKind.Call, c => [c._values.UploadRequest()]),
        new(SensorHubMethods.Upload, MethodKind.ClientStream, c => [c.UploadId(), c._values.Long()]),
        new(SensorHubMethods.GetUploadStatus, MethodKind.Call, c => [c.UploadId()]),
        new(SensorHubMethods.WatchUpload, MethodKind.ServerStream, c => [c.UploadId()]),
        new(SensorHubMethods.Download, MethodKind.ServerStream, c => [c.UploadId(), c._values.Long()]),
        new(SensorHubMethods.ListUploads, MethodKind.Call, _ => []),
    ];

    /// <summary>One random step; each kind is one of the list.</summary>
    private Task StepAsync(CancellationToken cancellationToken) => Random.Next(100) switch
    {
        < 22 => InvokeAsync(_values.Pick(s_methods), cancellationToken),
        < 27 => UnknownMethodAsync(cancellationToken),
        < 40 => ServerStreamAsync(cancellationToken),
        < 52 => ClientStreamAsync(cancellationToken),
        // These wait for the server's answers: only on a connection that reads, and whose framing is still in step.
        < 56 when _reader is not null && !FramingBroken => UploadForRealAsync(cancellationToken),
        < 60 when _reader is not null && !FramingBroken => SessionForRealAsync(cancellationToken),
        < 68 => StrayMessageAsync(cancellationToken),
        < 76 => MutatedMessageAsync(cancellationToken),
        < 86 => BadFramingAsync(cancellationToken),
        < 88 => OversizeAsync(cancellationToken),
        < 91 when _client!.IsOverTcp => SocketGarbageAsync(cancellationToken),
        < 93 => BurstAsync(cancellationToken),
        _ => Task.Delay(Random.Next(1, 30), cancellationToken),
    };

    /// <summary>A method of the contract with plausible arguments, mutated one time in five, invoked mostly as its kind needs.</summary>
    private async Task InvokeAsync(MethodShape method, CancellationToken cancellationToken)
    {
        var arguments = (FuzzValue)new ArrayValue(method.Arguments(this));
        if (Random.Next(5) == 0)
            arguments = _values.Mutant(arguments);
        // Now and then the wrong kind of invocation, or a call without an id (no answer expected).
        var stream = Random.Next(10) == 0 ? method.Kind != MethodKind.ServerStream : method.Kind == MethodKind.ServerStream;
        var id = !stream && Random.Next(10) == 0 ? null : InvocationId();
        var streamIds = method.Kind == MethodKind.ClientStream || Random.Next(20) == 0 ? StreamIds() : null;
        await SendMessageAsync(
            $"invoke {method.Name}",
            _messages.Invocation(stream, Of(id), Of(MethodName(method.Name)), arguments, streamIds?.Select(Of).ToArray()),
            cancellationToken);
        if (streamIds is not null && streamIds.Count > 0)
            await FeedStreamAsync(streamIds[0], method.Name, cancellationToken);
        if (stream && id is not null)
            await MaybeCancelAsync(id, cancellationToken);
    }

    private Task UnknownMethodAsync(CancellationToken cancellationToken)
    {
        var name = _values.Pick("DoesNotExist", "", "Subscribe ", "OnConnectedAsync", "Dispose", "GetType", "ToString", ErrorClarity.Scrub(_values.Text(60)));
        return SendMessageAsync(
            $"invoke unknown {name}",
            _messages.Invocation(stream: Random.Next(2) == 0, InvocationId(), name, [.. Enumerable.Range(0, Random.Next(0, 3)).Select(_ => _values.Any())], null),
            cancellationToken);
    }

    /// <summary>A server-to-client stream started and then cancelled at once, later, twice, or never (left to the connection's end).</summary>
    private async Task ServerStreamAsync(CancellationToken cancellationToken)
    {
        var method = _values.Pick(s_methods.Where(m => m.Kind == MethodKind.ServerStream).ToArray());
        var id = InvocationId();
        await SendMessageAsync($"stream {method.Name}", _messages.Invocation(stream: true, id, method.Name, method.Arguments(this), null), cancellationToken);
        await MaybeCancelAsync(id, cancellationToken);
    }

    private async Task MaybeCancelAsync(string invocationId, CancellationToken cancellationToken)
    {
        switch (Random.Next(5))
        {
            case 0:
                await SendMessageAsync("cancel at once", _messages.CancelInvocation(invocationId), cancellationToken);
                break;
            case 1:
                await Task.Delay(Random.Next(1, 40), cancellationToken);
                await SendMessageAsync("cancel later", _messages.CancelInvocation(invocationId), cancellationToken);
                break;
            case 2:
                await SendMessageAsync("cancel", _messages.CancelInvocation(invocationId), cancellationToken);
                await SendMessageAsync("cancel again", _messages.CancelInvocation(invocationId), cancellationToken);
                break;
            default:
                // Never cancelled, and at times never read: the connection's end must end it.
                break;
        }
    }

    /// <summary>A client-to-server stream (Publish, PublishBatches, Upload) opened with a stream id, fed, and completed once, twice, with an error, or never.</summary>
    private async Task ClientStreamAsync(CancellationToken cancellationToken)
    {
        var method = _values.Pick(s_methods.Where(m => m.Kind == MethodKind.ClientStream).ToArray());
        var id = Random.Next(6) == 0 ? null : InvocationId();
        var streamId = NextId("s");
        await SendMessageAsync(
            $"invoke {method.Name} with stream {streamId}",
            _messages.Invocation(stream: false, Of(id), Of(method.Name), new ArrayValue(method.Arguments(this)), [Of(streamId)]),
            cancellationToken);
        await FeedStreamAsync(streamId, method.Name, cancellationToken);
    }

    /// <summary>Items of the kind <paramref name="method"/> takes (chunks, batches of readings, readings), then the stream's end or none.</summary>
    private async Task FeedStreamAsync(string streamId, string method, CancellationToken cancellationToken)
    {
        var items = Random.Next(0, 12);
        for (var i = 0; i < items; i++)
        {
            // Now and then an item for another stream id, one the server never heard of.
            var target = Random.Next(15) == 0 ? NextId("unknown-s") : streamId;
            var item = method switch
            {
                SensorHubMethods.Upload => _values.Chunk(),
                SensorHubMethods.PublishBatches => _values.ReadingBatch(),
                _ => _values.ReadingInput(),
            };
            await SendMessageAsync("item", _messages.StreamItem(target, item), cancellationToken);
        }
        switch (Random.Next(10))
        {
            case < 4:
                await SendMessageAsync("complete", _messages.Completion(streamId, null, null), cancellationToken);
                break;
            case 4:
                await SendMessageAsync("complete", _messages.Completion(streamId, null, null), cancellationToken);
                await SendMessageAsync("complete again", _messages.Completion(streamId, null, null), cancellationToken);
                break;
            case 5:
                var error = ErrorClarity.Scrub(_values.Text(40));
                SentStreamErrors.Add(error);
                await SendMessageAsync("complete with an error", _messages.Completion(streamId, error, null), cancellationToken);
                break;
            case 6:
                await SendMessageAsync("complete with a result", _messages.Completion(streamId, null, _values.Any()), cancellationToken);
                break;
            default:
                // Never completed: the connection's end must end the call and free what it holds.
                break;
        }
    }

    /// <summary>BeginUpload, then an Upload on the id it returned, as a device would: chunks and a completion, or a drop half way.</summary>
    private async Task UploadForRealAsync(CancellationToken cancellationToken)
    {
        var begin = NextId("i");
        var reply = Expect(begin, SensorHubMethods.BeginUpload);
        var request = MapOf(("name", Of("fuzz.csv")), ("contentType", Of(_values.Pick("text/csv", "text/plain", "application/octet-stream"))), ("totalBytes", Nil), ("sha256", Nil));
        await SendMessageAsync("begin upload", _messages.Invocation(stream: false, begin, SensorHubMethods.BeginUpload, [request], null), cancellationToken);
        if (!await AwaitReplyAsync("BeginUpload", reply, cancellationToken))
            return;
        string uploadId;
        lock (_learnedUploads)
        {
            if (_learnedUploads.Count == 0)
                return;
            uploadId = _learnedUploads[^1];
        }
        var streamId = NextId("s");
        await SendMessageAsync(
            $"upload to {uploadId}",
            _messages.Invocation(stream: false, InvocationId(), SensorHubMethods.Upload, [Of(uploadId), Of(0)], [streamId]),
            cancellationToken);
        await FeedStreamAsync(streamId, SensorHubMethods.Upload, cancellationToken);
    }

    /// <summary>CreateSession, then JoinSession and Annotate on it, and at times EndSession while the join streams.</summary>
    private async Task SessionForRealAsync(CancellationToken cancellationToken)
    {
        var create = NextId("i");
        var reply = Expect(create, SensorHubMethods.CreateSession);
        var request = MapOf(("title", Of("fuzz")), ("sensorIds", ArrayOf(SensorIdOfWorld())), ("private", Of(Random.Next(2) == 0)), ("invited", Nil));
        await SendMessageAsync("create session", _messages.Invocation(stream: false, create, SensorHubMethods.CreateSession, [request], null), cancellationToken);
        if (!await AwaitReplyAsync("CreateSession", reply, cancellationToken))
            return;
        string sessionId;
        lock (_learnedSessions)
        {
            if (_learnedSessions.Count == 0)
                return;
            sessionId = _learnedSessions[^1];
        }
        var join = InvocationId();
        await SendMessageAsync($"join {sessionId}", _messages.Invocation(stream: true, join, SensorHubMethods.JoinSession, [Of(sessionId)], null), cancellationToken);
        await SendMessageAsync(
            "annotate",
            _messages.Invocation(stream: false, InvocationId(), SensorHubMethods.Annotate, [Of(sessionId), _values.AnnotationInput()], null),
            cancellationToken);
        if (Random.Next(3) == 0)
            await SendMessageAsync("end session", _messages.Invocation(stream: false, InvocationId(), SensorHubMethods.EndSession, [Of(sessionId)], null), cancellationToken);
        await MaybeCancelAsync(join, cancellationToken);
    }

    /// <summary>Messages no invocation asked for: items, completions and cancels for unknown ids, pings, stateful-reconnect messages, unknown types, a close.</summary>
    private Task StrayMessageAsync(CancellationToken cancellationToken)
    {
        var unknown = NextId("nobody");
        var (what, message) = Random.Next(9) switch
        {
            0 => ("item for an unknown stream", _messages.StreamItem(unknown, _values.Any())),
            1 => ("completion of an unknown stream", _messages.Completion(unknown, null, null)),
            2 => ("completion with an error of an unknown id", _messages.Completion(unknown, ErrorClarity.Scrub(_values.Text(30)), null)),
            3 => ("completion with a result of an unknown id", _messages.Completion(unknown, null, _values.Any())),
            4 => ("cancel of an unknown invocation", _messages.CancelInvocation(unknown)),
            5 => ("ping", _messages.Ping()),
            6 => ("ack or sequence", _messages.SequenceMessage(Random.Next(2) == 0, _values.Pick(0L, 1L, -1L, long.MaxValue))),
            7 => ("unknown type", _messages.UnknownType(_values.Pick(0L, 10L, 99L, -1L, long.MaxValue))),
            _ => ("close from the client", _messages.Close(Random.Next(2) == 0 ? null : ErrorClarity.Scrub(_values.Text(30)), Random.Next(2) == 0)),
        };
        return SendMessageAsync(what, message, cancellationToken);
    }

    /// <summary>A plausible invocation with its envelope mutated: a field dropped, doubled, of another type; the type number changed.</summary>
    private Task MutatedMessageAsync(CancellationToken cancellationToken)
    {
        var method = _values.Pick(s_methods);
        var message = _messages.Invocation(method.Kind == MethodKind.ServerStream, InvocationId(), method.Name, method.Arguments(this), null);
        var mutations = Random.Next(1, 3);
        for (var i = 0; i < mutations; i++)
            message = _values.Mutant(message);
        return SendMessageAsync($"mutated {method.Name}", message, cancellationToken);
    }

    /// <summary>A message larger than the hub's MaximumReceiveMessageSize: the server closes this connection and no other.</summary>
    private Task OversizeAsync(CancellationToken cancellationToken)
    {
        FramingBroken = true;
        var huge = new string('x', 1_600_000);
        return SendMessageAsync("oversize", _messages.Invocation(stream: false, InvocationId(), SensorHubMethods.GetUploadStatus, [Of(huge)], null), cancellationToken);
    }

    /// <summary>
    /// Past a limit at once: more streams than a connection may hold (<c>too_many_streams</c>), annotations faster
    /// than the rate (<c>rate_limited</c>), more uploads than a connection may run (<c>too_many_uploads</c>). What was
    /// taken is left to the connection's end to give back.
    /// </summary>
    private async Task BurstAsync(CancellationToken cancellationToken)
    {
        switch (Random.Next(3))
        {
            case 0:
                var streams = Random.Next(101, 111);
                for (var i = 0; i < streams; i++)
                {
                    await SendMessageAsync(
                        "burst of streams",
                        _messages.Invocation(stream: true, NextId("i"), _values.Pick(SensorHubMethods.Subscribe, SensorHubMethods.SubscribeBatches), [SensorIdOfWorld(), Nil], null),
                        cancellationToken);
                }
                break;
            case 1:
                for (var i = 0; i < 8; i++)
                {
                    await SendMessageAsync(
                        "burst of annotations",
                        _messages.Invocation(stream: false, NextId("i"), SensorHubMethods.Annotate, [SessionId(), MapOf(("text", Of("burst")), ("sensorId", Nil), ("sequence", Nil))], null),
                        cancellationToken);
                }
                break;
            default:
                if (_reader is null || FramingBroken)
                    break;
                for (var i = 0; i < 5 && !Gone; i++)
                {
                    var begin = NextId("i");
                    var reply = Expect(begin, SensorHubMethods.BeginUpload);
                    var request = MapOf(("name", Of("burst.bin")), ("contentType", Of("application/octet-stream")), ("totalBytes", Of(100)), ("sha256", Nil));
                    await SendMessageAsync("burst: begin upload", _messages.Invocation(stream: false, begin, SensorHubMethods.BeginUpload, [request], null), cancellationToken);
                    if (!await AwaitReplyAsync("BeginUpload", reply, cancellationToken))
                        break;
                    string uploadId;
                    lock (_learnedUploads)
                        uploadId = _learnedUploads[^1];
                    // Opened and never completed: the fifth is one too many for this connection.
                    await SendMessageAsync(
                        "burst: upload, never completed",
                        _messages.Invocation(stream: false, NextId("i"), SensorHubMethods.Upload, [Of(uploadId), Of(0)], [NextId("s")]),
                        cancellationToken);
                }
                break;
        }
    }

    /// <summary>An invocation id: fresh mostly, at times one already in use, or odd.</summary>
    private string InvocationId() => Random.Next(20) switch
    {
        0 when _nextId > 0 => $"i{Random.Next(_nextId)}",
        1 => _values.Pick("", " ", "0", ErrorClarity.Scrub(_values.Text(40))),
        _ => NextId("i"),
    };

    /// <summary>Stream ids for a client-to-server stream: one mostly, at times none, two, or an odd one.</summary>
    private List<string> StreamIds() => Random.Next(10) switch
    {
        0 => [],
        1 => [NextId("s"), NextId("s")],
        2 => [_values.Pick("", "i0", ErrorClarity.Scrub(_values.Text(20)))],
        _ => [NextId("s")],
    };

    /// <summary>The method's name, at times in another case (SignalR matches names without case) or with a stray character.</summary>
    private string MethodName(string name) => Random.Next(15) switch
    {
        0 => name.ToLowerInvariant(),
        1 => name.ToUpperInvariant(),
        2 => name + "\u0000",
        _ => name,
    };

    private FuzzValue SessionId()
    {
        lock (_learnedSessions)
            return _values.Maybe(_values.SessionId(_learnedSessions));
    }

    private FuzzValue UploadId()
    {
        lock (_learnedUploads)
            return _values.Maybe(_values.UploadId(_learnedUploads));
    }

    private FuzzValue SensorIdOfWorld() => _values.SensorId() is StringValue { Value: var id } && id.StartsWith(FuzzWorld.SensorPrefix, StringComparison.Ordinal)
        ? Of(id)
        : Of(FuzzWorld.SensorPrefix + "a");
}
