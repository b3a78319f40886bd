using System.Globalization;

namespace SensorHub.ClientSample;

/// <summary>The words of a command line: positional arguments, and <c>--name value</c> options.</summary>
internal sealed class CommandLine
{
    private readonly List<string> _arguments = [];
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    private CommandLine()
    {
    }

    public IReadOnlyList<string> Arguments => _arguments;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var line = new CommandLine();
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                line._arguments.Add(args[i]);
                continue;
            }
            if (i + 1 >= args.Count)
                throw new UsageException($"{args[i]} needs a value.");
            line._options[args[i]] = args[++i];
        }
        return line;
    }

    public string Argument(int index, string name) =>
        index < _arguments.Count ? _arguments[index] : throw new UsageException($"<{name}> is missing.");

    /// <summary>Checks, before anything is sent, that the positional arguments are all there.</summary>
    public CommandLine Requires(params string[] names)
    {
        if (_arguments.Count < names.Length)
            throw new UsageException($"<{names[_arguments.Count]}> is missing.");
        return this;
    }

    public string? Option(string name) => _options.GetValueOrDefault(name);

    public long? LongOption(string name) => Number(name, long.Parse);

    public double? DoubleOption(string name) => Number(name, double.Parse);

    public void ExpectOnly(params string[] known)
    {
        var unknown = _options.Keys.Except(known).FirstOrDefault();
        if (unknown is not null)
            throw new UsageException($"Unknown option {unknown}.");
    }

    private T? Number<T>(string name, Func<string, IFormatProvider, T> parse)
        where T : struct
    {
        if (Option(name) is not { } text)
            return null;
        try
        {
            return parse(text, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            throw new UsageException($"{name} takes a number, not '{text}'.");
        }
    }
}

/// <summary>A command line that does not say what it means.</summary>
internal sealed class UsageException(string message) : Exception(message);
