using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>The checks of a <c>ListSensors</c> query, whose messages name the field and what was wrong with it.</summary>
public static class SensorQueries
{
    /// <summary>The query's prefix (empty for all), <c>after</c> and limit, or an <c>invalid_argument</c> refusal.</summary>
    /// <exception cref="SensorHubException"><c>invalid_argument</c>: a field is out of its range.</exception>
    public static (string Prefix, string? After, int Limit) Check(SensorQuery? query)
    {
        var prefix = query?.Prefix ?? "";
        CheckText("query.prefix", prefix);
        if (query?.After is { } after)
            CheckText("query.after", after);
        var limit = query?.Limit ?? SensorQuery.DefaultLimit;
        if (limit is < 1 or > SensorQuery.MaxLimit)
            throw new SensorHubException(SensorHubErrors.InvalidArgument, $"query.limit must be from 1 to {SensorQuery.MaxLimit}; it was {limit}.");
        return (prefix, query?.After, limit);
    }

    /// <summary>A prefix or a position is compared with sensor ids: no longer than one, of the characters one may hold.</summary>
    private static void CheckText(string name, string text)
    {
        if (text.Length > SensorId.MaxLength)
            throw new SensorHubException(SensorHubErrors.InvalidArgument, $"{name} is {text.Length} characters long; at most {SensorId.MaxLength} are allowed.");
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or '/'))
            {
                var shown = char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
                throw new SensorHubException(
                    SensorHubErrors.InvalidArgument, $"{name} contains {shown}; only ASCII letters, digits and . _ - / are allowed.");
            }
        }
    }
}
