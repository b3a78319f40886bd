using System.Globalization;
using NodaTime;

namespace SensorHub.Server.Uploads.Processing;

/// <summary>
/// Reads a CSV timestamp into UTC, as <see cref="CsvSettings"/> say. Detected per value: a number is a Unix time,
/// in seconds when its magnitude is below <see cref="SecondsBelow"/> (10^11, the year 5138 in seconds, but only
/// 1973-03-03 in milliseconds) and in milliseconds from there on; seconds may have a fraction, milliseconds may not.
/// Anything else is read as ISO 8601 (and the other invariant forms .NET reads, as before). A date-time without an
/// offset is in <see cref="CsvSettings.TimeZone"/>, or UTC without one.
/// </summary>
/// <remarks>
/// Local times go through the tz database embedded in NodaTime, so a result does not depend on the machine's
/// tzdata. Across a DST change: a local time that occurs twice (clocks going back) is the earlier of the two
/// instants; one that never occurs (clocks going forward) is rejected, since no reading can have been taken then.
/// </remarks>
internal sealed class CsvTimestamps(CsvSettings settings)
{
    /// <summary>Unix numbers of smaller magnitude are seconds; from here on milliseconds.</summary>
    public const double SecondsBelow = 1e11;

    private const long MinUnixMilliseconds = -62_135_596_800_000;
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    /// <summary>Reads <paramref name="text"/>: the UTC instant, or <see langword="null"/> and the reason.</summary>
    public DateTime? Read(ReadOnlySpan<char> text, out string? problem)
    {
        problem = null;
        switch (settings.TimestampKind)
        {
            case CsvTimestampKind.UnixSeconds:
                return TryNumber(text, out var seconds) ? FromUnixMilliseconds(seconds * 1000, text, out problem) : Fail(text, "is not a Unix time in seconds", out problem);
            case CsvTimestampKind.UnixMilliseconds:
                return TryNumber(text, out var milliseconds) ? FromUnixMilliseconds(milliseconds, text, out problem) : Fail(text, "is not a Unix time in milliseconds", out problem);
            case CsvTimestampKind.Custom:
                return ReadCustom(text, out problem);
            case CsvTimestampKind.Iso8601:
                return ReadIso(text, out problem) ?? (problem is null ? Fail(text, "is not ISO 8601", out problem) : null);
            default:
                if (TryNumber(text, out var number))
                {
                    if (Math.Abs(number) < SecondsBelow)
                        return FromUnixMilliseconds(number * 1000, text, out problem);
                    if (number != Math.Floor(number))
                        return Fail(text, "is a Unix time in milliseconds (its magnitude is 10^11 or more) with a fraction", out problem);
                    return FromUnixMilliseconds(number, text, out problem);
                }
                return ReadIso(text, out problem) ?? (problem is null ? Fail(text, "is neither ISO 8601 nor a Unix time in seconds or milliseconds", out problem) : null);
        }
    }

    private static bool TryNumber(ReadOnlySpan<char> text, out double number) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number);

    private static DateTime? FromUnixMilliseconds(double milliseconds, ReadOnlySpan<char> text, out string? problem)
    {
        if (milliseconds is < MinUnixMilliseconds or > MaxUnixMilliseconds)
            return Fail(text, "is a Unix time outside the years 1 to 9999", out problem);
        problem = null;
        // Whole milliseconds exactly; a fraction of a second to the tick (a double holds about 15 digits).
        var whole = Math.Floor(milliseconds);
        var ticks = (long)whole * TimeSpan.TicksPerMillisecond + (long)Math.Round((milliseconds - whole) * TimeSpan.TicksPerMillisecond);
        return DateTime.UnixEpoch.AddTicks(ticks);
    }

    private DateTime? ReadIso(ReadOnlySpan<char> text, out string? problem)
    {
        problem = null;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
            return null;
        if (settings.TimeZone is null)
            return instant.UtcDateTime;
        // Read again only to learn whether the text carried an offset (a Kind other than Unspecified).
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var local);
        return local.Kind == DateTimeKind.Unspecified ? InZone(local, text, out problem) : instant.UtcDateTime;
    }

    private DateTime? ReadCustom(ReadOnlySpan<char> text, out string? problem)
    {
        var format = settings.TimestampFormat!;
        if (!DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var local))
            return Fail(text, $"does not have the format '{format}'", out problem);
        problem = null;
        if (local.Kind == DateTimeKind.Unspecified)
            return settings.TimeZone is null ? DateTime.SpecifyKind(local, DateTimeKind.Utc) : InZone(local, text, out problem);
        // The format has an offset: read as an instant.
        DateTimeOffset.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant);
        return instant.UtcDateTime;
    }

    private DateTime? InZone(DateTime local, ReadOnlySpan<char> text, out string? problem)
    {
        var zone = settings.TimeZone!;
        var mapping = zone.MapLocal(LocalDateTime.FromDateTime(local));
        if (mapping.Count == 0)
            return Fail(text, $"is a local time that does not exist in {zone.Id} (skipped when the clocks went forward)", out problem);
        problem = null;
        // Twice (the clocks went back): the earlier instant.
        return mapping.First().ToDateTimeUtc();
    }

    private static DateTime? Fail(ReadOnlySpan<char> text, string why, out string? problem)
    {
        problem = $"timestamp '{CsvText.Quote(text)}' {why}";
        return null;
    }
}
