namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// A value as the fuzz writes it on the wire, under either hub protocol: a whole hub message is one of these (a JSON
/// object, a MessagePack array), so that a mutation can reach any part of it, the envelope included.
/// </summary>
internal abstract record FuzzValue
{
    public static readonly FuzzValue Nil = new NullValue();

    public static FuzzValue Of(string? text) => text is null ? Nil : new StringValue(text);

    public static FuzzValue Of(long number) => new IntegerValue(number);

    public static FuzzValue Of(bool value) => new BooleanValue(value);

    public static FuzzValue ArrayOf(params FuzzValue[] items) => new ArrayValue(items);

    public static FuzzValue MapOf(params (string Key, FuzzValue Value)[] fields) =>
        new MapValue(fields.Select(f => (Of(f.Key), f.Value)).ToArray());
}

internal sealed record NullValue : FuzzValue;

internal sealed record BooleanValue(bool Value) : FuzzValue;

internal sealed record IntegerValue(long Value) : FuzzValue;

/// <summary>An unsigned integer above <see cref="long.MaxValue"/> is possible under MessagePack only; JSON writes the digits.</summary>
internal sealed record UnsignedValue(ulong Value) : FuzzValue;

/// <summary>A double; NaN and the infinities are MessagePack floats, and under JSON bare words that no JSON reader takes.</summary>
internal sealed record FloatValue(double Value) : FuzzValue;

internal sealed record StringValue(string Value) : FuzzValue;

/// <summary>A string given as its bytes, which need not be UTF-8: invalid UTF-8 where a string belongs.</summary>
internal sealed record RawStringValue(byte[] Bytes) : FuzzValue;

/// <summary>Bytes: MessagePack's bin, JSON's base64 string (as SignalR carries a <c>byte[]</c>).</summary>
internal sealed record BinaryValue(byte[] Bytes) : FuzzValue;

/// <summary>A time: MessagePack's timestamp extension, an ISO 8601 string under JSON.</summary>
internal sealed record TimeValue(DateTime Value) : FuzzValue;

/// <summary>A MessagePack extension of any type code; under JSON, its bytes as base64.</summary>
internal sealed record ExtensionValue(sbyte TypeCode, byte[] Bytes) : FuzzValue;

internal sealed record ArrayValue(IReadOnlyList<FuzzValue> Items) : FuzzValue;

internal sealed record MapValue(IReadOnlyList<(FuzzValue Key, FuzzValue Value)> Fields) : FuzzValue;

/// <summary>
/// <paramref name="Depth"/> arrays (or single-key maps) inside each other around <paramref name="Core"/>, written
/// without recursion so that any depth stays cheap to make.
/// </summary>
internal sealed record NestedValue(int Depth, bool Maps, FuzzValue Core) : FuzzValue;

/// <summary>Bytes written as they are where a value belongs: no value at all, just garbage in the message.</summary>
internal sealed record RawBytesValue(byte[] Bytes) : FuzzValue;
