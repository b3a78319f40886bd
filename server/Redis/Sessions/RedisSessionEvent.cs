using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SensorHub.Contracts;

namespace SensorHub.Server.Redis.Sessions;

/// <summary>
/// One session event as it travels between nodes (see <see cref="RedisSessionScripts"/>): its sequence in the session,
/// the event members get, and for <c>sensorsChanged</c> the members (by id) that it evicts.
/// </summary>
internal sealed record RedisSessionEvent(long Sequence, SessionEvent Event, IReadOnlySet<string> Evicted)
{
    private static readonly IReadOnlySet<string> s_none = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Reads an event's payload: a JSON array of strings, its sequence, its kind, then the kind's fields.</summary>
    /// <exception cref="FormatException">Not an event.</exception>
    public static RedisSessionEvent Parse(string payload)
    {
        var fields = JsonSerializer.Deserialize(payload, RedisSessionJson.Default.StringArray);
        if (fields is not { Length: >= 2 } || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            throw new FormatException($"Not a session event: {payload}");
        var evicted = s_none;
        var sessionEvent = fields[1] switch
        {
            SessionEventKinds.Joined or SessionEventKinds.Left when fields.Length >= 5 => new SessionEvent
            {
                Kind = fields[1],
                Participant = new Participant
                {
                    Id = fields[2],
                    Name = fields[3],
                    Connections = int.Parse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture),
                },
            },
            SessionEventKinds.Annotated when fields.Length >= 3 => new SessionEvent
            {
                Kind = fields[1],
                Annotation = JsonSerializer.Deserialize(fields[2], RedisSessionJson.Default.Annotation),
            },
            SessionEventKinds.SensorsChanged when fields.Length >= 4 => new SessionEvent
            {
                Kind = fields[1],
                SensorIds = JsonSerializer.Deserialize(fields[2], RedisSessionJson.Default.StringArray),
            },
            SessionEventKinds.Ended => new SessionEvent { Kind = fields[1] },
            _ => throw new FormatException($"Not a session event: {payload}"),
        };
        if (fields[1] == SessionEventKinds.SensorsChanged && fields[3].Length > 0)
            evicted = new HashSet<string>(fields[3].Split(','), StringComparer.Ordinal);
        return new RedisSessionEvent(sequence, sessionEvent, evicted);
    }
}

/// <summary>How sessions' data is written into Redis: JSON, as the web would write it.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SessionInfo))]
[JsonSerializable(typeof(Annotation))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class RedisSessionJson : JsonSerializerContext;
