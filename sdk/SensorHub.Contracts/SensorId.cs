using System.Diagnostics.CodeAnalysis;

namespace SensorHub.Contracts;

/// <summary>The rule for sensor ids, shared so that clients can check an id before they send it.</summary>
public static class SensorId
{
    /// <summary>The longest id allowed.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// Checks <paramref name="id"/>: 1 to 128 ASCII letters, digits and <c>. _ - /</c>, not starting with <c>/</c>.
    /// </summary>
    /// <param name="id">The id to check.</param>
    /// <param name="problem">What is wrong with it, as a phrase to follow the id's name in a message.</param>
    /// <returns>Whether the id is valid.</returns>
    public static bool IsValid([NotNullWhen(true)] string? id, [NotNullWhen(false)] out string? problem)
    {
        if (id is null)
        {
            problem = "is required";
            return false;
        }
        if (id.Length == 0)
        {
            problem = "is empty";
            return false;
        }
        if (id.Length > MaxLength)
        {
            problem = $"is {id.Length} characters long; at most {MaxLength} are allowed";
            return false;
        }
        if (id[0] == '/')
        {
            problem = "must not start with '/'";
            return false;
        }
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or '/'))
            {
                var shown = char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
                problem = $"contains {shown}; only ASCII letters, digits and . _ - / are allowed";
                return false;
            }
        }
        problem = null;
        return true;
    }
}
