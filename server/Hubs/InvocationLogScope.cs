using System.Collections;
using System.Reflection;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The fields every log written during a hub call carries (a log scope, <see cref="HubDiagnosticsFilter"/>): the
/// connection, the invocation, the method and, for a method about one sensor, session or upload, its id. One is made
/// per call; a stream's items make none.
/// </summary>
/// <remarks>
/// The connection's and the method's fields are named <c>HubConnectionId</c> and <c>HubMethod</c>, not
/// <c>ConnectionId</c>: on Kestrel every request's logs carry Kestrel's own <c>ConnectionId</c> scope (another id,
/// of the TCP connection), and a log exporter that flattens scopes into attributes would keep one of the two.
/// </remarks>
internal sealed class InvocationLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    /// <summary>SignalR's connection id (<c>HubCallerContext.ConnectionId</c>).</summary>
    public const string ConnectionIdField = "HubConnectionId";

    /// <summary>The invocation id the client gave the call; <see langword="null"/> for a call sent without one.</summary>
    public const string InvocationIdField = "InvocationId";

    /// <summary>The hub method's name.</summary>
    public const string MethodField = "HubMethod";

    /// <summary>The sensor of <c>Subscribe</c> and <c>SubscribeBatches</c>.</summary>
    public const string SensorIdField = "SensorId";

    /// <summary>The pattern of <c>SubscribeMany</c>.</summary>
    public const string SensorPatternField = "SensorPattern";

    /// <summary>The session of <c>JoinSession</c>, <c>Annotate</c>, <c>SetSessionSensors</c>, <c>EndSession</c>.</summary>
    public const string SessionIdField = "SessionId";

    /// <summary>The upload of <c>Upload</c>, <c>WatchUpload</c>, <c>Download</c>, <c>GetUploadStatus</c>.</summary>
    public const string UploadIdField = "UploadId";

    private readonly string _connectionId;
    private readonly string? _invocationId;
    private readonly string _method;
    private readonly string? _subjectField;
    private readonly object? _subject;
    private string? _text;

    public InvocationLogScope(string connectionId, string? invocationId, string method, Subject subject, IReadOnlyList<object?> arguments)
    {
        _connectionId = connectionId;
        _invocationId = invocationId;
        _method = method;
        if (subject.Field is { } field)
        {
            _subjectField = field;
            _subject = arguments[subject.Argument];
        }
    }

    public int Count => _subjectField is null ? 3 : 4;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new(ConnectionIdField, _connectionId),
        1 => new(InvocationIdField, _invocationId),
        2 => new(MethodField, _method),
        3 when _subjectField is not null => new(_subjectField, _subject),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>What a text log shows of the scope (the simple console formatter's <c>=&gt;</c> part), made once.</summary>
    public override string ToString() => _text ??= _subjectField is null
        ? $"{_method} {_invocationId} on {_connectionId}"
        : $"{_method} {_invocationId} on {_connectionId} ({_subjectField} {_subject})";

    /// <summary>Which argument of a hub method names what the call is about, read once per method from its parameter names.</summary>
    public readonly record struct Subject(string? Field, int Argument)
    {
        public static Subject Of(MethodInfo method)
        {
            var parameters = method.GetParameters();
            for (var i = 0; i < parameters.Length; i++)
            {
                var field = parameters[i].Name switch
                {
                    "sensorId" => SensorIdField,
                    "pattern" => SensorPatternField,
                    "sessionId" => SessionIdField,
                    "uploadId" => UploadIdField,
                    _ => null,
                };
                if (field is not null && parameters[i].ParameterType == typeof(string))
                    return new Subject(field, i);
            }
            return default;
        }
    }
}
