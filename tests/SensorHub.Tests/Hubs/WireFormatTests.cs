using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The contract's wire format: every DTO has the same camelCase field names under both hub protocols, and a time is
/// UTC, an ISO 8601 string ending in <c>Z</c> under JSON and a MessagePack timestamp (extension type -1, which
/// JavaScript decodes to a <c>Date</c>) under MessagePack.
/// </summary>
public sealed class WireFormatTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    private const sbyte TimestampExtension = -1;

    private static readonly string[] s_readingFields = ["sensorId", "sequence", "timestamp", "value"];

    /// <summary>Times with ticks below the millisecond, so that a format that rounds or shifts them shows.</summary>
    private static readonly DateTime s_firstTime = new DateTime(2024, 2, 29, 23, 59, 58, DateTimeKind.Utc).AddTicks(1_234_567);

    public static TheoryData<Transport> Transports => new() { Transport.TestServer, Transport.Kestrel };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task JsonStreamItemIsAReadingWithExactlyItsCamelCaseFieldsAndAUtcIsoTimestamp(Transport transport)
    {
        var app = apps[transport];
        var (sensorId, published) = await PublishReadingsAsync(app);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var client = await RawHubClient.ConnectAsync(app, cts.Token);
        await client.HandshakeAsync(Protocol.Json, cts.Token);

        await client.SubscribeAsync("1", sensorId, published[0].Sequence, cts.Token);

        foreach (var expected in published)
        {
            var frame = await ReadJsonStreamItemAsync(client, cts.Token);
            using var message = JsonDocument.Parse(frame);
            var root = message.RootElement;
            Assert.Equal(["invocationId", "item", "type"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal("1", root.GetProperty("invocationId").GetString());

            var item = root.GetProperty("item");
            Assert.Equal(JsonValueKind.Object, item.ValueKind);
            Assert.Equal(s_readingFields, item.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(sensorId, item.GetProperty("sensorId").GetString());
            Assert.Equal(JsonValueKind.Number, item.GetProperty("sequence").ValueKind);
            Assert.Equal(expected.Sequence, item.GetProperty("sequence").GetInt64());
            Assert.Equal(expected.Value, item.GetProperty("value").GetDouble());
            AssertJsonUtcTime(expected.Timestamp, item.GetProperty("timestamp"), frame);
        }

        await client.CancelInvocationAsync("1", cts.Token);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task MessagePackStreamItemIsAMapWithExactlyTheCamelCaseFieldsAndATimestampExtension(Transport transport)
    {
        var app = apps[transport];
        var (sensorId, published) = await PublishReadingsAsync(app);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var client = await RawHubClient.ConnectAsync(app, cts.Token);
        await client.HandshakeAsync(Protocol.MessagePack, cts.Token);

        // The options go out as a map with the camelCase key, so this also checks that the server reads that key.
        await client.SubscribeAsync("1", sensorId, published[0].Sequence, cts.Token);

        foreach (var expected in published)
        {
            var (invocationId, item) = await ReadMessagePackStreamItemAsync(client, cts.Token);
            Assert.Equal("1", invocationId);
            var fields = Assert.IsType<Dictionary<string, object?>>(item);
            Assert.Equal(s_readingFields, fields.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(sensorId, fields["sensorId"]);
            Assert.Equal(expected.Sequence, Assert.IsType<long>(fields["sequence"]));
            Assert.Equal(expected.Value, Assert.IsType<double>(fields["value"]));
            var timestamp = Assert.IsType<MessagePackTimestamp>(fields["timestamp"]);
            Assert.Equal(DateTimeKind.Utc, timestamp.Value.Kind);
            Assert.Equal(expected.Timestamp, timestamp.Value);
        }

        await client.CancelInvocationAsync("1", cts.Token);
    }

    /// <summary>Every DTO the hub sends or receives, filled in, and one with its optional fields empty.</summary>
    private static readonly Dictionary<string, Dto> s_dtos = new()
    {
        ["Reading"] = new(
            new Reading { SensorId = "plant-1/line-1/temperature", Sequence = 1_700_000_000_000_001, Timestamp = s_firstTime, Value = 21.5 },
            s_readingFields,
            Times: ["timestamp"]),
        ["SensorInfo"] = new(
            new SensorInfo
            {
                Id = "plant-1/line-1/temperature",
                Name = "Line 1 temperature",
                Unit = "°C",
                Kind = "temperature",
                FirstSequence = 1_700_000_000_000_000,
                LastSequence = 1_700_000_000_000_001,
                LastValue = 21.5,
                LastTimestamp = s_firstTime,
            },
            ["firstSequence", "id", "kind", "lastSequence", "lastTimestamp", "lastValue", "name", "unit"],
            Times: ["lastTimestamp"]),
        ["SensorInfo before its first reading"] = new(
            new SensorInfo { Id = "device-7", Name = "device-7", Kind = "device" },
            ["firstSequence", "id", "kind", "lastSequence", "lastTimestamp", "lastValue", "name", "unit"],
            Times: [],
            Nulls: ["lastTimestamp", "lastValue", "unit"]),
        ["SubscribeOptions"] = new(
            new SubscribeOptions { FromSequence = 1_700_000_000_000_001, MaxRate = 30 },
            ["fromSequence", "maxRate"],
            Times: []),
        ["SubscribeOptions empty"] = new(
            new SubscribeOptions(),
            ["fromSequence", "maxRate"],
            Times: [],
            Nulls: ["fromSequence", "maxRate"]),
        ["SubscribeManyOptions"] = new(
            new SubscribeManyOptions { MaxRate = 2, FromSequences = new Dictionary<string, long> { ["Plant-1/Line-A/temp"] = 1_700_000_000_000_001 } },
            ["fromSequences", "maxRate"],
            Times: []),
        ["SubscribeManyOptions empty"] = new(
            new SubscribeManyOptions(),
            ["fromSequences", "maxRate"],
            Times: [],
            Nulls: ["fromSequences", "maxRate"]),
        ["ReadingInput"] = new(
            new ReadingInput { SensorId = "device-7", Value = -3.25, Timestamp = s_firstTime },
            ["sensorId", "timestamp", "value"],
            Times: ["timestamp"]),
        ["ReadingInput without a timestamp"] = new(
            new ReadingInput { SensorId = "device-7", Value = -3.25 },
            ["sensorId", "timestamp", "value"],
            Times: [],
            Nulls: ["timestamp"]),
        ["PublishResult"] = new(
            new PublishResult
            {
                Accepted = 10,
                Rejected = 1,
                Rejections = [new PublishRejection { Index = 3, SensorId = "bad id", Code = SensorHubErrors.InvalidArgument, Reason = "sensorId contains ' '." }],
            },
            ["accepted", "rejected", "rejections"],
            Times: [],
            ElementsOf: ("rejections", ["code", "index", "reason", "sensorId"])),
        ["PublishRejection"] = new(
            new PublishRejection { Index = 0, SensorId = null, Code = SensorHubErrors.InvalidArgument, Reason = "sensorId is required." },
            ["code", "index", "reason", "sensorId"],
            Times: [],
            Nulls: ["sensorId"]),
        ["SensorQuery"] = new(
            new SensorQuery { Prefix = "plant-1/", After = "plant-1/line-1/humidity", Limit = 50 },
            ["after", "limit", "prefix"],
            Times: []),
        ["SensorQuery empty"] = new(
            new SensorQuery(),
            ["after", "limit", "prefix"],
            Times: [],
            Nulls: ["after", "limit", "prefix"]),
        ["SensorPage"] = new(
            new SensorPage { Sensors = [new SensorInfo { Id = "device-7", Name = "device-7", Kind = "device" }], Next = "device-7" },
            ["next", "sensors"],
            Times: [],
            ElementsOf: ("sensors", ["firstSequence", "id", "kind", "lastSequence", "lastTimestamp", "lastValue", "name", "unit"])),
        ["SensorPage, the last"] = new(
            new SensorPage { Sensors = [new SensorInfo { Id = "device-7", Name = "device-7", Kind = "device" }] },
            ["next", "sensors"],
            Times: [],
            Nulls: ["next"]),
        ["UploadRequest"] = new(
            new UploadRequest { Name = "readings.csv", ContentType = "text/csv", TotalBytes = 1234, Sha256 = new string('a', 64) },
            ["contentType", "csv", "name", "sha256", "totalBytes"],
            Times: [],
            Nulls: ["csv"]),
        ["UploadRequest with csv options"] = new(
            new UploadRequest
            {
                Name = "readings.csv",
                ContentType = "text/csv",
                Csv = new CsvOptions { Delimiter = ";", SensorPrefix = "plant-9/", TimeZone = "Europe/Berlin", TimestampFormat = "dd.MM.yyyy HH:mm" },
            },
            ["contentType", "csv", "name", "sha256", "totalBytes"],
            Times: [],
            Nulls: ["sha256", "totalBytes"]),
        ["CsvOptions"] = new(
            new CsvOptions { Delimiter = "\t", SensorPrefix = "plant-9/", TimeZone = "UTC", TimestampFormat = "unixSeconds" },
            ["delimiter", "sensorPrefix", "timeZone", "timestampFormat"],
            Times: []),
        ["CsvOptions empty"] = new(
            new CsvOptions(),
            ["delimiter", "sensorPrefix", "timeZone", "timestampFormat"],
            Times: [],
            Nulls: ["delimiter", "sensorPrefix", "timeZone", "timestampFormat"]),
        ["UploadStatus"] = new(
            new UploadStatus { UploadId = new string('0', 32), Name = "app.log", ContentType = "text/plain", ReceivedBytes = 10 },
            ["complete", "contentType", "error", "name", "receivedBytes", "sha256", "totalBytes", "uploadId"],
            Times: [],
            Nulls: ["error", "sha256", "totalBytes"]),
        ["UploadResult of a log"] = new(
            new UploadResult
            {
                UploadId = new string('0', 32),
                Bytes = 10,
                Complete = true,
                Sha256 = new string('b', 64),
                Log = new LogSummary { Lines = 3, Errors = 1, FirstErrors = [new LineSample { Line = 2, Text = "ERROR disk full" }] },
            },
            ["bytes", "complete", "csv", "log", "sha256", "uploadId"],
            Times: [],
            Nulls: ["csv"]),
        ["LogSummary"] = new(
            new LogSummary { Lines = 3, Entries = 3, Errors = 1, Warnings = 1, Infos = 1, Debug = 0, Format = "serilog", FirstErrors = [new LineSample { Line = 2, Text = "ERROR disk full" }] },
            ["debug", "entries", "errors", "firstErrors", "format", "infos", "lines", "other", "warnings"],
            Times: [],
            ElementsOf: ("firstErrors", ["line", "text"])),
        ["LineSample"] = new(new LineSample { Line = 1, Text = "x" }, ["line", "text"], Times: []),
        ["CsvSummary"] = new(
            new CsvSummary
            {
                Layout = "wide", Delimiter = ";", Header = true, Rows = 2, Accepted = 1, Rejected = 1,
                FirstRejections = [new RowRejection { Line = 3, Code = SensorHubErrors.InvalidArgument, Reason = "value 'x' is not a number", Column = "plant-9/rh" }],
            },
            ["accepted", "delimiter", "firstRejections", "header", "layout", "rejected", "rows"],
            Times: [],
            ElementsOf: ("firstRejections", ["code", "column", "line", "reason"])),
        ["RowRejection"] = new(new RowRejection { Line = 1, Code = SensorHubErrors.TooManySensors, Reason = "x" }, ["code", "column", "line", "reason"], Times: [], Nulls: ["column"]),
        ["RowRejection of a wide cell"] = new(new RowRejection { Line = 2, Code = SensorHubErrors.InvalidArgument, Reason = "x", Column = "temp" }, ["code", "column", "line", "reason"], Times: []),
        ["SessionInfo"] = new(
            new SessionInfo { Id = new string('a', 32), Title = "Line 1 check", Owner = "alice", OwnerId = "sub-alice", SensorIds = ["plant-1/line-1/temperature"], Private = true },
            ["id", "owner", "ownerId", "private", "sensorIds", "title"],
            Times: []),
        ["CreateSessionRequest"] = new(
            new CreateSessionRequest { Title = "Line 1 check", SensorIds = ["plant-1/line-1/temperature"], Private = true, Invited = ["bob"] },
            ["invited", "private", "sensorIds", "title"],
            Times: []),
        ["CreateSessionRequest without invitations"] = new(
            new CreateSessionRequest { Title = "Line 1 check", SensorIds = ["plant-1/line-1/temperature"] },
            ["invited", "private", "sensorIds", "title"],
            Times: [],
            Nulls: ["invited"]),
        ["Participant"] = new(new Participant { Id = "sub-alice", Name = "alice", Connections = 2 }, ["connections", "id", "name"], Times: []),
        ["Annotation"] = new(
            new Annotation { Id = new string('b', 32), Author = "bob", AuthorId = "sub-bob", Text = "spike", SensorId = "plant-1/line-1/temperature", Sequence = 42, Time = s_firstTime },
            ["author", "authorId", "id", "sensorId", "sequence", "text", "time"],
            Times: ["time"]),
        ["AnnotationInput"] = new(
            new AnnotationInput { Text = "spike" },
            ["sensorId", "sequence", "text"],
            Times: [],
            Nulls: ["sensorId", "sequence"]),
        ["SessionEvent snapshot"] = new(
            new SessionEvent
            {
                Kind = SessionEventKinds.Snapshot,
                Session = new SessionInfo { Id = new string('a', 32), Title = "t", Owner = "alice", OwnerId = "sub-alice", SensorIds = [] },
                Participants = [new Participant { Id = "sub-alice", Name = "alice", Connections = 1 }],
                Annotations = [],
            },
            ["annotation", "annotations", "kind", "participant", "participants", "sensorIds", "session"],
            Times: [],
            Nulls: ["annotation", "participant", "sensorIds"],
            ElementsOf: ("participants", ["connections", "id", "name"])),
    };

    public static TheoryData<string> Dtos => [.. s_dtos.Keys];

    [Fact]
    public void EveryMessagePackObjectOfTheContractsIsCovered()
    {
        var contracts = typeof(Reading).Assembly.GetExportedTypes()
            .Where(t => t.IsDefined(typeof(MessagePackObjectAttribute), inherit: false))
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal);
        var covered = s_dtos.Values.Select(d => d.Value.GetType().Name).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(contracts, covered);
    }

    [Theory]
    [MemberData(nameof(Dtos))]
    public void JsonHubProtocolWritesExactlyTheCamelCaseFieldsAndUtcIsoTimes(string dto)
    {
        var (value, fields, times, nulls, elementsOf) = s_dtos[dto];
        var json = JsonSerializer.Serialize(value, value.GetType(), new JsonHubProtocolOptions().PayloadSerializerOptions);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal(fields, root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var time in times)
            AssertJsonUtcTime(s_firstTime, root.GetProperty(time), json);
        foreach (var field in nulls ?? [])
            Assert.Equal(JsonValueKind.Null, root.GetProperty(field).ValueKind);
        if (elementsOf is var (property, elementFields))
        {
            Assert.NotEmpty(root.GetProperty(property).EnumerateArray());
            foreach (var element in root.GetProperty(property).EnumerateArray())
                Assert.Equal(elementFields, element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Dtos))]
    public void MessagePackHubProtocolWritesAMapOfExactlyTheCamelCaseFieldsAndTimestampExtensions(string dto)
    {
        var (value, fields, times, nulls, elementsOf) = s_dtos[dto];
        var bytes = MessagePackSerializer.Serialize(value.GetType(), value, new MessagePackHubProtocolOptions().SerializerOptions);
        var reader = new MessagePackReader(bytes);
        var map = Assert.IsType<Dictionary<string, object?>>(ReadTree(ref reader));
        Assert.True(reader.End, "Bytes follow the DTO's map.");

        Assert.Equal(fields, map.Keys.Order(StringComparer.Ordinal));
        foreach (var time in times)
        {
            var timestamp = Assert.IsType<MessagePackTimestamp>(map[time]);
            Assert.Equal(DateTimeKind.Utc, timestamp.Value.Kind);
            Assert.Equal(s_firstTime, timestamp.Value);
        }
        foreach (var field in nulls ?? [])
            Assert.Null(map[field]);
        if (elementsOf is var (property, elementFields))
        {
            var elements = Assert.IsType<List<object?>>(map[property]);
            Assert.NotEmpty(elements);
            foreach (var element in elements)
                Assert.Equal(elementFields, Assert.IsType<Dictionary<string, object?>>(element).Keys.Order(StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// <c>fromSequences</c>' keys are sensor ids: both protocols carry them exactly as given (a naming policy applied to
    /// dictionary keys would lowercase <c>Plant-1</c>), and read them back into the options the hub receives.
    /// </summary>
    [Fact]
    public void FromSequencesKeepsSensorIdsAsTheyAreOnBothProtocols()
    {
        var options = new SubscribeManyOptions { FromSequences = new Dictionary<string, long> { ["Plant-1/Line-A/temp"] = 42 } };

        var jsonOptions = new JsonHubProtocolOptions().PayloadSerializerOptions;
        var json = JsonSerializer.Serialize(options, jsonOptions);
        Assert.Contains("\"Plant-1/Line-A/temp\":42", json, StringComparison.Ordinal);
        var fromJson = JsonSerializer.Deserialize<SubscribeManyOptions>(json, jsonOptions)!;
        Assert.Equal(42, fromJson.FromSequences!["Plant-1/Line-A/temp"]);

        var messagePackOptions = new MessagePackHubProtocolOptions().SerializerOptions;
        var bytes = MessagePackSerializer.Serialize(options, messagePackOptions);
        var fromMessagePack = MessagePackSerializer.Deserialize<SubscribeManyOptions>(bytes, messagePackOptions);
        Assert.Equal(42, fromMessagePack.FromSequences!["Plant-1/Line-A/temp"]);
    }

    /// <summary>Three readings on a new sensor, at times a little apart, in history for a replay.</summary>
    private static async Task<(string SensorId, List<Reading> Published)> PublishReadingsAsync(SensorHubApplication app)
    {
        var sensorId = Sensors.NewId("wire");
        var published = new List<Reading>();
        for (var i = 0; i < 3; i++)
            published.Add(await app.Engine.PublishAsync(sensorId, 21.5 + i, s_firstTime.AddTicks(i * 10_001), CancellationToken.None));
        return (sensorId, published);
    }

    private static void AssertJsonUtcTime(DateTime expected, JsonElement element, string context)
    {
        Assert.True(element.ValueKind == JsonValueKind.String, $"A time is {element.ValueKind}, not a string, in {context}");
        var text = element.GetString()!;
        Assert.True(text.EndsWith('Z'), $"The time '{text}' does not end in Z, in {context}");
        var parsed = DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(DateTimeKind.Utc, parsed.Kind);
        Assert.Equal(expected, parsed);
    }

    /// <summary>The next StreamItem's text, skipping pings; a completion (an error) fails the test.</summary>
    private static async Task<string> ReadJsonStreamItemAsync(RawHubClient client, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 100; i++)
        {
            var frame = await client.ReadJsonMessageAsync(cancellationToken);
            using var message = JsonDocument.Parse(frame);
            switch (message.RootElement.GetProperty("type").GetInt32())
            {
                case 2:
                    return frame;
                case 6:
                    continue;
                default:
                    Assert.Fail($"Expected a StreamItem, got {frame}");
                    break;
            }
        }
        throw new InvalidOperationException("Only pings came.");
    }

    /// <summary>The next StreamItem ([2, headers, invocationId, item]), skipping pings; anything else fails the test.</summary>
    private static async Task<(string InvocationId, object? Item)> ReadMessagePackStreamItemAsync(RawHubClient client, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 100; i++)
        {
            var bytes = await client.ReadMessagePackMessageAsync(cancellationToken);
            var reader = new MessagePackReader(bytes);
            var message = Assert.IsType<List<object?>>(ReadTree(ref reader));
            Assert.True(reader.End, "Bytes follow a hub message.");
            switch (message[0])
            {
                case 2L:
                    Assert.Equal(4, message.Count);
                    Assert.IsType<Dictionary<string, object?>>(message[1]);
                    return (Assert.IsType<string>(message[2]), message[3]);
                case 6L:
                    continue;
                default:
                    Assert.Fail($"Expected a StreamItem, got [{string.Join(", ", message)}]");
                    break;
            }
        }
        throw new InvalidOperationException("Only pings came.");
    }

    /// <summary>
    /// Decodes one MessagePack value: a map (whose keys must be strings) to a dictionary, an array to a list, an integer
    /// to a long, a float to a double, a timestamp extension to a <see cref="MessagePackTimestamp"/>. Any other
    /// extension fails the test.
    /// </summary>
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
            case MessagePackType.Float:
                return reader.ReadDouble();
            case MessagePackType.String:
                return reader.ReadString();
            case MessagePackType.Binary:
                return reader.ReadBytes()?.ToArray();
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
                    Assert.True(reader.NextMessagePackType == MessagePackType.String, $"A map key is {reader.NextMessagePackType}, not a string.");
                    var key = reader.ReadString()!;
                    Assert.True(map.TryAdd(key, ReadTree(ref reader)), $"The key '{key}' appears twice.");
                }
                return map;
            case MessagePackType.Extension:
                var peek = reader;
                var header = peek.ReadExtensionFormatHeader();
                Assert.True(header.TypeCode == TimestampExtension, $"An extension of type {header.TypeCode}, not the timestamp ({TimestampExtension}).");
                return new MessagePackTimestamp(reader.ReadDateTime());
            default:
                throw new InvalidOperationException($"Unexpected MessagePack type {reader.NextMessagePackType}.");
        }
    }

    /// <summary>A MessagePack timestamp (extension type -1), as opposed to a time written any other way.</summary>
    private sealed record MessagePackTimestamp(DateTime Value);

    /// <summary>A DTO, its field names on the wire, which of them are times, which are null, and the fields of an array's elements.</summary>
    private sealed record Dto(object Value, string[] Fields, string[] Times, string[]? Nulls = null, (string Property, string[] Fields)? ElementsOf = null);
}
