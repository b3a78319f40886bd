using System.Text;
using static SensorHub.Tests.Infrastructure.Fuzz.FuzzValue;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// Random values from one seeded <see cref="Random"/>: plausible arguments of each hub method (ids that exist, options
/// in range) and hostile ones (wrong types, nulls, huge strings and arrays, deep nesting, numbers at the edges, invalid
/// UTF-8), and mutations that turn the first into the second anywhere in a message.
/// </summary>
internal sealed class FuzzValues(Random random, FuzzWorld world, Protocol protocol)
{
    /// <summary>
    /// Sizes of a huge string. The largest stays under the hub's <c>MaximumReceiveMessageSize</c> (about 1.4 MB) even
    /// at three UTF-8 bytes a character; messages over it are made on purpose elsewhere (one size, so that the server's
    /// buffer pools are not grown by every size the fuzz could think of).
    /// </summary>
    private static readonly int[] s_hugeLengths = [1_000, 20_000, 100_000, 400_000];

    private static readonly long[] s_edgeLongs =
        [0, 1, -1, long.MinValue, long.MaxValue, long.MinValue + 1, long.MaxValue - 1, int.MinValue, int.MaxValue, (long)int.MaxValue + 1, 1L << 53, (1L << 53) + 1, -(1L << 53)];

    private static readonly double[] s_edgeDoubles =
    [
        0, -0.0, 1, -1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, double.MaxValue,
        double.MinValue, 1e-13, 0.000999, 0.001, 1_000_000, 1_000_001, 1e308, -1e-308, 9007199254740993,
    ];

    private static readonly string[] s_badSensorIds =
        ["", "/fuzz/a", "fuzz a", "fuzz*a", "fuzz/température", "fuzz\u0000a", "fuzz/\t", "fuzz/a\n", "..", "fuzz//", "\ud83d\ude00"];

    private static readonly DateTime[] s_edgeTimes =
    [
        DateTime.MinValue, DateTime.MaxValue, DateTime.UnixEpoch, new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc),
        new DateTime(2262, 4, 11, 0, 0, 0, DateTimeKind.Utc), new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Local),
        new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified),
    ];

    public Random Random { get; } = random;

    public Protocol Protocol { get; } = protocol;

    public bool Chance(double probability) => Random.NextDouble() < probability;

    public T PickFrom<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    public T Pick<T>(params T[] items) => items[Random.Next(items.Length)];

    /// <summary><paramref name="plausible"/>, or one time in <paramref name="odds"/> something else in its place.</summary>
    public FuzzValue Maybe(FuzzValue plausible, int odds = 5) => Random.Next(odds) == 0 ? Mutant(plausible) : plausible;

    /// <summary>A valid id naming a known sensor, a new one (from a bounded set), or a malformed one.</summary>
    public FuzzValue SensorId() => Random.Next(10) switch
    {
        < 5 => Of(PickFrom(world.Sensors)),
        < 8 => Of($"{FuzzWorld.SensorPrefix}new-{Random.Next(FuzzWorld.NewSensorIds)}"),
        8 => Of(Pick(s_badSensorIds)),
        _ => Of(Text(200)),
    };

    public FuzzValue SessionId(IReadOnlyList<string> learned) => Random.Next(8) switch
    {
        < 3 => Of(world.SessionId),
        3 when learned.Count > 0 => Of(PickFrom(learned)),
        < 6 => Of(Guid.NewGuid().ToString("N")[..Random.Next(28, 33)].PadRight(32, Pick('0', 'g', 'F'))),
        _ => Of(Text(80)),
    };

    public FuzzValue UploadId(IReadOnlyList<string> learned) => Random.Next(8) switch
    {
        < 2 => Of(world.CompleteUploadId),
        < 4 => Of(world.UnfinishedUploadId),
        4 when learned.Count > 0 => Of(PickFrom(learned)),
        5 => Of(RandomHex(32)),
        _ => Of(Text(80)),
    };

    public FuzzValue Long() => Random.Next(3) == 0 ? Of(Random.NextInt64(-1_000, 100_000)) : Of(Pick(s_edgeLongs));

    public FuzzValue Double() => Random.Next(3) == 0 ? new FloatValue((Random.NextDouble() - 0.5) * 1e4) : new FloatValue(Pick(s_edgeDoubles));

    public FuzzValue Time() => Random.Next(4) switch
    {
        0 => new TimeValue(DateTime.UtcNow),
        1 => new TimeValue(DateTime.UtcNow.AddHours(2)),
        2 => Of(Pick("2026-01-01T00:00:00Z", "not a time", "2026-13-45T99:99:99Z", "")),
        _ => new TimeValue(Pick(s_edgeTimes)),
    };

    public FuzzValue SubscribeOptions() => Maybe(Chance(0.3)
        ? Nil
        : Map(("fromSequence", Chance(0.5) ? Nil : Long()), ("maxRate", Chance(0.5) ? Nil : Double())));

    /// <summary>A <c>SubscribeMany</c> pattern: mostly one that matches the world's sensors, sometimes a malformed one.</summary>
    public FuzzValue SensorPattern() => Random.Next(10) switch
    {
        < 3 => Of(PickFrom(world.Sensors)),
        < 6 => Of(PickFrom(world.Sensors).Split('/')[0] + Pick("/#", "/+", "/+/#", "")),
        6 => Of(Pick("#", "+", "+/#", "+/+")),
        7 => Of(Pick("a/#/b", "a/b+", "/a", "#/", "a//#", "a/#x", "")),
        8 => Of(new string('a', Random.Next(120, 140))),
        _ => Of(Text(40)),
    };

    public FuzzValue SubscribeManyOptions() => Maybe(Chance(0.3)
        ? Nil
        : Map(
            ("maxRate", Chance(0.5) ? Nil : Double()),
            ("fromSequences", Chance(0.5) ? Nil : new MapValue([.. Enumerable.Range(0, Random.Next(0, 4)).Select(_ => (SensorId(), Long()))]))));

    public FuzzValue CreateSessionRequest() => Maybe(Map(
        ("title", Maybe(Of(Text(250)))),
        ("sensorIds", Maybe(ArrayOf([.. Enumerable.Range(0, Random.Next(0, 4)).Select(_ => SensorId())]))),
        ("private", Maybe(Of(Chance(0.5)))),
        ("invited", Maybe(Chance(0.5) ? Nil : ArrayOf([.. Enumerable.Range(0, Random.Next(0, 3)).Select(_ => Of(Text(20)))])))));

    public FuzzValue AnnotationInput() => Maybe(Map(
        ("text", Maybe(Of(Text(600)))),
        ("sensorId", Chance(0.5) ? Nil : SensorId()),
        ("sequence", Chance(0.5) ? Nil : Long())));

    public FuzzValue UploadRequest() => Maybe(Map(
        ("name", Maybe(Of(Random.Next(3) > 0 ? Pick("data.csv", "app.log", "x.bin") : Pick("../etc/passwd", "a/b", "", " ", "a\u0001b", new string('n', 256))))),
        ("contentType", Maybe(Of(Pick("text/csv", "text/plain", "application/octet-stream", "text/csv; charset=utf-8", "")))),
        ("totalBytes", Chance(0.5) ? Nil : Long()),
        ("sha256", Chance(0.7) ? Nil : Of(Pick(RandomHex(64), RandomHex(63), RandomHex(64).ToUpperInvariant())))));

    public FuzzValue SensorIds() => Maybe(ArrayOf([.. Enumerable.Range(0, Random.Next(0, 5)).Select(_ => SensorId())]));

    public FuzzValue ReadingInput() => Maybe(Map(
        ("sensorId", SensorId()),
        ("value", Double()),
        ("timestamp", Chance(0.5) ? Nil : Time())));

    /// <summary>
    /// A <c>PublishBatches</c> item: a few readings (at times empty, or null), and now and then a batch of nulls over
    /// the server's <c>MaxPublishBatchSize</c> (1,000), which is rejected whole.
    /// </summary>
    public FuzzValue ReadingBatch() => Maybe(Random.Next(20) switch
    {
        0 => Nil,
        1 => ArrayOf([.. Enumerable.Repeat(Nil, Random.Next(1_001, 20_000))]),
        _ => ArrayOf([.. Enumerable.Range(0, Random.Next(0, 6)).Select(_ => ReadingInput())]),
    });

    /// <summary>An upload chunk: bytes (base64 under JSON, bin under MessagePack), at times a CSV line or a log line.</summary>
    public FuzzValue Chunk() => Maybe(Random.Next(4) switch
    {
        0 => new BinaryValue(Encoding.UTF8.GetBytes($"{PickFrom(world.Sensors)},{DateTime.UtcNow:O},{Random.Next(100)}\n")),
        1 => new BinaryValue(Encoding.UTF8.GetBytes("ERROR something broke\nINFO fine\n")),
        2 => new BinaryValue([]),
        // Over MaxChunkBytes (1 MiB): refused whole (under JSON, as base64, the message is too large instead).
        3 when Random.Next(20) == 0 => new BinaryValue(Bytes(1_100_000)),
        _ => new BinaryValue(Bytes(Random.Next(0, 4_096))),
    });

    /// <summary>Anything at all: a scalar of any kind, or a small array or map of them.</summary>
    public FuzzValue Any(int depth = 0) => Random.Next(depth > 2 ? 9 : 12) switch
    {
        0 => Nil,
        1 => Of(Chance(0.5)),
        2 => Long(),
        3 => Double(),
        4 => Of(Text(40)),
        5 => new BinaryValue(Bytes(Random.Next(0, 64))),
        6 => Time(),
        7 => new UnsignedValue(Pick(ulong.MaxValue, (ulong)long.MaxValue + 1)),
        8 => new ExtensionValue((sbyte)Random.Next(-128, 128), Bytes(Random.Next(0, 16))),
        9 => ArrayOf([.. Enumerable.Range(0, Random.Next(0, 4)).Select(_ => Any(depth + 1))]),
        10 => new MapValue([.. Enumerable.Range(0, Random.Next(0, 4)).Select(_ => (Chance(0.8) ? Of(Text(10)) : Any(depth + 1), Any(depth + 1)))]),
        _ => Hostile(),
    };

    /// <summary>A value meant to hurt: huge, deep, invalid UTF-8, or a number at an edge.</summary>
    public FuzzValue Hostile() => Random.Next(8) switch
    {
        0 => Of(Text(Pick(s_hugeLengths), exact: true)),
        1 => ArrayOf([.. Enumerable.Range(0, Pick(1_000, 20_000, 100_000)).Select(i => Of(i))]),
        2 => new NestedValue(Pick(65, 200, 1_000, 10_000, 100_000), Chance(0.5), Any(3)),
        3 => new RawStringValue(InvalidUtf8()),
        4 => new RawStringValue(Encoding.ASCII.GetBytes(Pick("\\ud800", "\\udfff\\ud800", "\\u0000", "\\", "\\x41"))),
        5 => new FloatValue(Pick(s_edgeDoubles)),
        6 => Of(Pick(s_edgeLongs)),
        _ => new BinaryValue(Bytes(Pick(100_000, 500_000))),
    };

    /// <summary>Something else in place of <paramref name="value"/>: another value, or the same shape with a part changed.</summary>
    public FuzzValue Mutant(FuzzValue value) => value switch
    {
        MapValue map when Chance(0.6) => MutateMap(map),
        ArrayValue array when Chance(0.6) => MutateArray(array),
        _ => Random.Next(4) switch
        {
            0 => Nil,
            1 => Hostile(),
            _ => Any(),
        },
    };

    /// <summary>Random text of up to <paramref name="maxLength"/> characters (exactly that many when <paramref name="exact"/>).</summary>
    public string Text(int maxLength, bool exact = false)
    {
        var length = exact ? maxLength : Random.Next(Random.Next(3) == 0 ? maxLength + 1 : Math.Min(maxLength, 16) + 1);
        var alphabet = Pick(
            "abcdefghijklmnopqrstuvwxyz0123456789-_./",
            " \t\r\n\u0001\u007f'\"\\{}[]<>%&;:",
            "éßΩж中文😀\u200b\u202e\ufeff\ufffd");
        var builder = new StringBuilder(length);
        while (builder.Length < length)
        {
            var c = alphabet[Random.Next(alphabet.Length)];
            // A surrogate pair is taken whole, so that the text stays valid UTF-16 (invalid text has values of its own).
            if (char.IsHighSurrogate(c))
            {
                var at = alphabet.IndexOf(c, StringComparison.Ordinal);
                builder.Append(alphabet, at, 2);
            }
            else if (!char.IsLowSurrogate(c))
            {
                builder.Append(c);
            }
        }
        return ErrorClarity.Scrub(builder.ToString());
    }

    public byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        Random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Bytes that are no UTF-8: stray continuation bytes, overlong forms, encoded surrogates, bytes UTF-8 never uses.</summary>
    public byte[] InvalidUtf8() => Random.Next(6) switch
    {
        0 => [0x66, 0x80, 0x67],
        1 => [0xc0, 0xaf],
        2 => [0xed, 0xa0, 0x80],
        3 => [0xff, 0xfe, 0x41],
        4 => [0xe2, 0x82],
        _ => Bytes(Random.Next(1, 32)),
    };

    private string RandomHex(int length) => Convert.ToHexStringLower(Bytes((length + 1) / 2))[..length];

    private MapValue MutateMap(MapValue map)
    {
        var fields = map.Fields.ToList();
        switch (Random.Next(5))
        {
            case 0 when fields.Count > 0:
                fields.RemoveAt(Random.Next(fields.Count));
                break;
            case 1:
                fields.Add((Chance(0.7) ? Of(Text(12)) : Any(), Any()));
                break;
            case 2 when fields.Count > 0:
                // The same field twice, or its name in another case (MessagePack keys are exact, JSON's are not always).
                var (key, item) = PickFrom(fields);
                fields.Add(Chance(0.5) || key is not StringValue name ? (key, Any()) : (Of(name.Value.ToUpperInvariant()), item));
                break;
            default:
                if (fields.Count > 0)
                {
                    var at = Random.Next(fields.Count);
                    fields[at] = (fields[at].Key, Mutant(fields[at].Value));
                }
                break;
        }
        return new MapValue(fields);
    }

    private ArrayValue MutateArray(ArrayValue array)
    {
        var items = array.Items.ToList();
        switch (Random.Next(4))
        {
            case 0 when items.Count > 0:
                items.RemoveAt(Random.Next(items.Count));
                break;
            case 1:
                items.Insert(Random.Next(items.Count + 1), Any());
                break;
            default:
                if (items.Count > 0)
                {
                    var at = Random.Next(items.Count);
                    items[at] = Mutant(items[at]);
                }
                break;
        }
        return new ArrayValue(items);
    }

    private static MapValue Map(params (string Key, FuzzValue Value)[] fields) => (MapValue)MapOf(fields);
}
