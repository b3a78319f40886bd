using System.Net.WebSockets;
using System.Text.Json;
using MessagePack;

namespace SensorHub.Tests.Infrastructure.Fuzz;

internal sealed partial class FuzzConnection
{
    /// <summary>Reads every message the server sends until it closes, and collects errors and replies.</summary>
    private async Task ReadAllAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _client!.ReadMessageOrEndAsync(record: Protocol == Protocol.Json, cancellationToken) is { } message)
                Handle(message);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Cut, by either side.
        }
        catch (InvalidOperationException ex)
        {
            Problems.Enqueue($"the server's framing is broken: {ex.Message}");
        }
        finally
        {
            Gone = true;
            foreach (var reply in _replies.Values)
                reply.TrySetResult(InvocationReply.Gone);
        }
    }

    private void Handle(byte[] message)
    {
        try
        {
            if (Protocol == Protocol.Json)
                HandleJson(message);
            else
                HandleMessagePack(message);
        }
        catch (Exception ex) when (ex is JsonException or MessagePackSerializationException or InvalidOperationException or InvalidCastException or IndexOutOfRangeException or KeyNotFoundException or FormatException)
        {
            Problems.Enqueue($"the server sent a message that does not parse ({ex.GetType().Name}: {ex.Message}): {FuzzLog.Preview(Protocol, message)}");
        }
    }

    private void HandleJson(byte[] message)
    {
        using var document = JsonDocument.Parse(message);
        var root = document.RootElement;
        switch (root.GetProperty("type").GetInt32())
        {
            case HubMessages.CompletionType:
                var id = root.GetProperty("invocationId").GetString()!;
                string? error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
                if (error is not null)
                    Errors.Enqueue(new ReceivedError(ErrorSource.Completion, error));
                else if (root.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Object)
                    Learn(id, result.TryGetProperty("uploadId", out var u) ? u.GetString() : result.TryGetProperty("id", out var s) ? s.GetString() : null);
                Reply(id, error);
                break;
            case HubMessages.CloseType:
                if (root.TryGetProperty("error", out var closeError) && closeError.ValueKind == JsonValueKind.String)
                    Errors.Enqueue(new ReceivedError(ErrorSource.Close, closeError.GetString()!));
                break;
            case HubMessages.StreamItemType or HubMessages.PingType:
                break;
            case var other:
                Problems.Enqueue($"the server sent a message of type {other}, which this hub never sends");
                break;
        }
    }

    private void HandleMessagePack(byte[] message)
    {
        var items = (object?[])MessagePackSerializer.Deserialize<object>(message, MessagePackSerializerOptions.Standard)!;
        switch (Convert.ToInt32(items[0], System.Globalization.CultureInfo.InvariantCulture))
        {
            case HubMessages.CompletionType:
                // [3, headers, invocationId, resultKind (1 error, 2 void, 3 result), result?]
                var id = (string)items[2]!;
                var kind = Convert.ToInt32(items[3], System.Globalization.CultureInfo.InvariantCulture);
                var error = kind == 1 ? (string)items[4]! : null;
                if (error is not null)
                    Errors.Enqueue(new ReceivedError(ErrorSource.Completion, error));
                else if (kind == 3 && items[4] is IDictionary<object, object?> result)
                    Learn(id, (result.TryGetValue("uploadId", out var u) ? u : result.TryGetValue("id", out var s) ? s : null) as string);
                Reply(id, error);
                break;
            case HubMessages.CloseType:
                if (items.Length > 1 && items[1] is string closeError)
                    Errors.Enqueue(new ReceivedError(ErrorSource.Close, closeError));
                break;
            case HubMessages.StreamItemType or HubMessages.PingType:
                break;
            case var other:
                Problems.Enqueue($"the server sent a message of type {other}, which this hub never sends");
                break;
        }
    }

    /// <summary>Keeps an id the server made (an upload's, a session's), so that later steps can use it.</summary>
    private void Learn(string invocationId, string? id)
    {
        if (id is null || !_targets.TryGetValue(invocationId, out var target))
            return;
        var learned = target == "BeginUpload" ? _learnedUploads : target == "CreateSession" ? _learnedSessions : null;
        if (learned is null)
            return;
        lock (learned)
            learned.Add(id);
    }

    private void Reply(string invocationId, string? error)
    {
        if (_replies.TryRemove(invocationId, out var reply))
            reply.TrySetResult(new InvocationReply(true, error));
    }

    /// <summary>The answer to <paramref name="invocationId"/>, to come; <see cref="InvocationReply.Gone"/> once the connection is gone.</summary>
    private Task<InvocationReply> Expect(string invocationId, string target)
    {
        _targets[invocationId] = target;
        var reply = new TaskCompletionSource<InvocationReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _replies[invocationId] = reply;
        if (Gone)
            reply.TrySetResult(InvocationReply.Gone);
        return reply.Task;
    }

    /// <summary>
    /// Waits for an answer that a step needs (or that a probe checks), without hanging the round on a connection the
    /// server has closed; an answer that never comes on an open connection is a hang. True for an answer without error.
    /// </summary>
    private async Task<bool> AwaitReplyAsync(string what, Task<InvocationReply> reply, CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(reply, Task.Delay(Timeouts.Default, cancellationToken)) != reply)
        {
            Problems.Enqueue($"{what} got no answer within {Timeouts.Default.TotalSeconds} s: the connection hangs");
            Gone = true;
            return false;
        }
        var answer = await reply;
        return answer.Answered && answer.Error is null;
    }
}
