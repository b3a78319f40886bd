using System.Globalization;
using System.Text.Json;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// The session DTOs on the wire, through the hub protocols' own serializer settings: the same camelCase field names
/// under JSON and MessagePack (<c>private</c>, not <c>Private</c>), and times in UTC (an ISO 8601 string ending in
/// <c>Z</c>, a MessagePack timestamp).
/// </summary>
public sealed class SessionWireFormatTests
{
    private static readonly DateTime s_time = new DateTime(2026, 3, 1, 12, 30, 15, DateTimeKind.Utc).AddTicks(1_234_567);

    private static readonly string[] s_sessionFields = ["id", "owner", "private", "sensorIds", "title"];
    private static readonly string[] s_annotationFields = ["author", "id", "sensorId", "sequence", "text", "time"];
    private static readonly string[] s_eventFields = ["annotation", "annotations", "kind", "participant", "participants", "sensorIds", "session"];

    private static readonly SessionInfo s_session = new()
    {
        Id = new string('a', 32),
        Title = "Line 1 check",
        Owner = "alice",
        SensorIds = ["plant-1/line-1/temperature"],
        Private = true,
    };

    private static readonly Annotation s_annotation = new()
    {
        Id = new string('b', 32),
        Author = "bob",
        Text = "spike",
        SensorId = "plant-1/line-1/temperature",
        Sequence = 9_007_199_254_740_991,
        Time = s_time,
    };

    private static readonly Dictionary<string, (object Value, string[] Fields, string[] Times, string[] Nulls)> s_dtos = new()
    {
        ["SessionInfo"] = (s_session, s_sessionFields, [], []),
        ["CreateSessionRequest"] = (
            new CreateSessionRequest { Title = "t", SensorIds = ["a/b"], Private = true, Invited = ["bob"] },
            ["invited", "private", "sensorIds", "title"], [], []),
        ["CreateSessionRequest without invitations"] = (
            new CreateSessionRequest { Title = "t", SensorIds = ["a/b"] },
            ["invited", "private", "sensorIds", "title"], [], ["invited"]),
        ["Participant"] = (new Participant { Name = "alice", Connections = 2 }, ["connections", "name"], [], []),
        ["Annotation"] = (s_annotation, s_annotationFields, ["time"], []),
        ["Annotation about the session as a whole"] = (
            s_annotation with { SensorId = null, Sequence = null }, s_annotationFields, ["time"], ["sensorId", "sequence"]),
        ["AnnotationInput"] = (new AnnotationInput { Text = "x", SensorId = "a/b", Sequence = 0 }, ["sensorId", "sequence", "text"], [], []),
        ["SessionEvent snapshot"] = (
            new SessionEvent
            {
                Kind = SessionEventKinds.Snapshot,
                Session = s_session,
                Participants = [new Participant { Name = "alice", Connections = 1 }],
                Annotations = [s_annotation],
            },
            s_eventFields, [], ["annotation", "participant", "sensorIds"]),
        ["SessionEvent joined"] = (
            new SessionEvent { Kind = SessionEventKinds.Joined, Participant = new Participant { Name = "bob", Connections = 1 } },
            s_eventFields, [], ["annotation", "annotations", "participants", "sensorIds", "session"]),
        ["SessionEvent annotated"] = (
            new SessionEvent { Kind = SessionEventKinds.Annotated, Annotation = s_annotation },
            s_eventFields, [], ["annotations", "participant", "participants", "sensorIds", "session"]),
    };

    public static TheoryData<string> Dtos => [.. s_dtos.Keys];

    [Fact]
    public void EverySessionDtoIsCovered()
    {
        string[] sessionTypes = [nameof(SessionInfo), nameof(CreateSessionRequest), nameof(SessionEvent), nameof(Participant), nameof(Annotation), nameof(AnnotationInput)];
        Assert.Equal(
            sessionTypes.Order(StringComparer.Ordinal),
            s_dtos.Values.Select(d => d.Value.GetType().Name).Distinct().Order(StringComparer.Ordinal));
        foreach (var type in sessionTypes)
            Assert.True(typeof(SessionInfo).Assembly.GetType($"SensorHub.Contracts.{type}")!.IsDefined(typeof(MessagePackObjectAttribute), inherit: false));
    }

    [Theory]
    [MemberData(nameof(Dtos))]
    public void JsonWritesExactlyTheCamelCaseFieldsAndUtcIsoTimes(string dto)
    {
        var (value, fields, times, nulls) = s_dtos[dto];
        var json = JsonSerializer.Serialize(value, value.GetType(), new JsonHubProtocolOptions().PayloadSerializerOptions);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal(fields, root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var time in times)
        {
            var text = root.GetProperty(time).GetString()!;
            Assert.EndsWith("Z", text, StringComparison.Ordinal);
            Assert.Equal(s_time, DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
        }
        foreach (var field in nulls)
            Assert.Equal(JsonValueKind.Null, root.GetProperty(field).ValueKind);
        if (root.TryGetProperty("session", out var session) && session.ValueKind == JsonValueKind.Object)
            Assert.Equal(s_sessionFields, session.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        if (root.TryGetProperty("annotations", out var annotations) && annotations.ValueKind == JsonValueKind.Array)
            Assert.Equal(s_annotationFields, annotations[0].EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Dtos))]
    public void MessagePackWritesAMapOfExactlyTheCamelCaseFieldsAndTimestamps(string dto)
    {
        var (value, fields, times, nulls) = s_dtos[dto];
        var bytes = MessagePackSerializer.Serialize(value.GetType(), value, new MessagePackHubProtocolOptions().SerializerOptions);
        var reader = new MessagePackReader(bytes);
        var map = Assert.IsType<Dictionary<string, object?>>(ReadTree(ref reader));
        Assert.True(reader.End, "Bytes follow the DTO's map.");

        Assert.Equal(fields, map.Keys.Order(StringComparer.Ordinal));
        foreach (var time in times)
            Assert.Equal(s_time, Assert.IsType<DateTime>(map[time]));
        foreach (var field in nulls)
            Assert.Null(map[field]);
        if (map.TryGetValue("session", out var session) && session is not null)
            Assert.Equal(s_sessionFields, Assert.IsType<Dictionary<string, object?>>(session).Keys.Order(StringComparer.Ordinal));
        if (map.TryGetValue("annotations", out var annotations) && annotations is List<object?> list)
            Assert.Equal(s_annotationFields, Assert.IsType<Dictionary<string, object?>>(list[0]).Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>One MessagePack value as dictionaries, lists and scalars; a timestamp extension as a UTC <see cref="DateTime"/>.</summary>
    private static object? ReadTree(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                return null;
            case MessagePackType.Boolean:
                return reader.ReadBoolean();
            case MessagePackType.Integer:
                return reader.ReadInt64();
            case MessagePackType.String:
                return reader.ReadString();
            case MessagePackType.Array:
                var count = reader.ReadArrayHeader();
                var list = new List<object?>(count);
                for (var i = 0; i < count; i++)
                    list.Add(ReadTree(ref reader));
                return list;
            case MessagePackType.Map:
                var pairs = reader.ReadMapHeader();
                var map = new Dictionary<string, object?>(pairs, StringComparer.Ordinal);
                for (var i = 0; i < pairs; i++)
                {
                    var key = reader.ReadString()!;
                    Assert.True(map.TryAdd(key, ReadTree(ref reader)), $"The key '{key}' appears twice.");
                }
                return map;
            case MessagePackType.Extension:
                var peek = reader;
                Assert.Equal(-1, peek.ReadExtensionFormatHeader().TypeCode);
                var time = reader.ReadDateTime();
                Assert.Equal(DateTimeKind.Utc, time.Kind);
                return time;
            default:
                throw new InvalidOperationException($"Unexpected MessagePack type {reader.NextMessagePackType}.");
        }
    }
}
