using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MessagePack;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>Writes a <see cref="FuzzValue"/> as a hub protocol writes a value: JSON text or MessagePack, framed or not.</summary>
internal static class FuzzWire
{
    public const byte RecordSeparator = 0x1e;

    /// <summary>One hub message as it goes on the wire: JSON with its record separator, MessagePack with its length prefix.</summary>
    public static byte[] Frame(Protocol protocol, FuzzValue message)
    {
        var body = protocol == Protocol.Json ? Json(message) : MessagePack(message);
        return protocol == Protocol.Json ? [.. body, RecordSeparator] : [.. LengthPrefix((uint)body.Length), .. body];
    }

    /// <summary>MessagePack's framing: the length as a VarInt, seven bits a byte, least significant first.</summary>
    public static byte[] LengthPrefix(uint length)
    {
        var prefix = new List<byte>(5);
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            prefix.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);
        return [.. prefix];
    }

    public static byte[] Json(FuzzValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteJson(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] MessagePack(FuzzValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        WriteMessagePack(ref writer, value);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteJson(ArrayBufferWriter<byte> output, FuzzValue value)
    {
        switch (value)
        {
            case NullValue:
                Ascii(output, "null");
                break;
            case BooleanValue b:
                Ascii(output, b.Value ? "true" : "false");
                break;
            case IntegerValue i:
                Ascii(output, i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case UnsignedValue u:
                Ascii(output, u.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case FloatValue f:
                // NaN and the infinities come out as bare words: JSON has no way to carry them.
                Ascii(output, f.Value.ToString("R", CultureInfo.InvariantCulture));
                break;
            case StringValue s:
                output.Write("\""u8);
                output.Write(JsonEncodedText.Encode(s.Value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes);
                output.Write("\""u8);
                break;
            case RawStringValue raw:
                output.Write("\""u8);
                output.Write(raw.Bytes);
                output.Write("\""u8);
                break;
            case BinaryValue bin:
                Ascii(output, $"\"{Convert.ToBase64String(bin.Bytes)}\"");
                break;
            case ExtensionValue ext:
                Ascii(output, $"\"{Convert.ToBase64String(ext.Bytes)}\"");
                break;
            case TimeValue t:
                Ascii(output, $"\"{t.Value.ToString("O", CultureInfo.InvariantCulture)}\"");
                break;
            case ArrayValue array:
                output.Write("["u8);
                for (var i = 0; i < array.Items.Count; i++)
                {
                    if (i > 0)
                        output.Write(","u8);
                    WriteJson(output, array.Items[i]);
                }
                output.Write("]"u8);
                break;
            case MapValue map:
                output.Write("{"u8);
                for (var i = 0; i < map.Fields.Count; i++)
                {
                    if (i > 0)
                        output.Write(","u8);
                    // A key that is no string is written as it is: broken JSON, on purpose.
                    WriteJson(output, map.Fields[i].Key);
                    output.Write(":"u8);
                    WriteJson(output, map.Fields[i].Value);
                }
                output.Write("}"u8);
                break;
            case NestedValue nested:
                for (var i = 0; i < nested.Depth; i++)
                    output.Write(nested.Maps ? "{\"a\":"u8 : "["u8);
                WriteJson(output, nested.Core);
                for (var i = 0; i < nested.Depth; i++)
                    output.Write(nested.Maps ? "}"u8 : "]"u8);
                break;
            case RawBytesValue raw:
                output.Write(raw.Bytes);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(value), value, "Not a fuzz value.");
        }
    }

    private static void WriteMessagePack(ref MessagePackWriter writer, FuzzValue value)
    {
        switch (value)
        {
            case NullValue:
                writer.WriteNil();
                break;
            case BooleanValue b:
                writer.Write(b.Value);
                break;
            case IntegerValue i:
                writer.Write(i.Value);
                break;
            case UnsignedValue u:
                writer.Write(u.Value);
                break;
            case FloatValue f:
                writer.Write(f.Value);
                break;
            case StringValue s:
                writer.Write(s.Value);
                break;
            case RawStringValue raw:
                writer.WriteString(raw.Bytes);
                break;
            case BinaryValue bin:
                writer.Write(bin.Bytes);
                break;
            case ExtensionValue ext:
                writer.WriteExtensionFormat(new ExtensionResult(ext.TypeCode, ext.Bytes));
                break;
            case TimeValue t:
                writer.Write(t.Value);
                break;
            case ArrayValue array:
                writer.WriteArrayHeader(array.Items.Count);
                foreach (var item in array.Items)
                    WriteMessagePack(ref writer, item);
                break;
            case MapValue map:
                writer.WriteMapHeader(map.Fields.Count);
                foreach (var (key, item) in map.Fields)
                {
                    WriteMessagePack(ref writer, key);
                    WriteMessagePack(ref writer, item);
                }
                break;
            case NestedValue nested:
                for (var i = 0; i < nested.Depth; i++)
                {
                    if (nested.Maps)
                    {
                        writer.WriteMapHeader(1);
                        writer.Write("a");
                    }
                    else
                    {
                        writer.WriteArrayHeader(1);
                    }
                }
                WriteMessagePack(ref writer, nested.Core);
                break;
            case RawBytesValue raw:
                writer.WriteRaw(raw.Bytes);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(value), value, "Not a fuzz value.");
        }
    }

    private static void Ascii(ArrayBufferWriter<byte> output, string text) => output.Write(Encoding.ASCII.GetBytes(text));
}
