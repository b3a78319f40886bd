using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using SensorHub.Contracts;

namespace SensorHub.ClientSample;

/// <summary>
/// Typed options and arguments that check their values while the command line is parsed, so that a bad one stops the
/// program before anything connects. Each failure is one line naming the option and the text that was given.
/// </summary>
/// <remarks>
/// Numbers are parsed and range-checked in one custom parser, not with a separate validator: System.CommandLine's
/// own parser names the CLR type in its message ('System.Nullable`1[System.Int64]'), and a validator that reads a
/// value whose parse failed throws instead of reporting.
/// </remarks>
internal static class CheckedArguments
{
    /// <summary>An optional whole number of <paramref name="atLeast"/> or more; <see langword="null"/> when not given.</summary>
    public static Option<long?> WholeNumber(string name, long atLeast, string description)
    {
        var rule = string.Create(CultureInfo.InvariantCulture, $"a whole number of {atLeast} or more");
        return new Option<long?>(name)
        {
            Description = description,
            HelpName = "N",
            CustomParser = result =>
                long.TryParse(Text(result), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= atLeast
                    ? value
                    : Reject<long?>(result, name, rule),
        };
    }

    /// <summary>
    /// An optional number from <paramref name="from"/> to <paramref name="to"/>; <paramref name="defaultValue"/> when
    /// not given. NaN and infinities are outside every range.
    /// </summary>
    public static Option<double?> Number(string name, double from, double to, string description, double? defaultValue = null)
    {
        var rule = string.Create(CultureInfo.InvariantCulture, $"a number from {from} to {to}");
        var option = new Option<double?>(name)
        {
            Description = description,
            HelpName = "R",
            CustomParser = result =>
                double.TryParse(Text(result), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= from && value <= to
                    ? value
                    : Reject<double?>(result, name, rule),
        };
        if (defaultValue is not null)
            option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>A sensor id argument, checked by the rule the server applies (<see cref="Contracts.SensorId"/>).</summary>
    public static Argument<string> SensorId(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result => CheckSensorId(result, name, result.GetValueOrDefault<string>()));
        return argument;
    }

    /// <summary>An optional sensor id option, checked by the rule the server applies.</summary>
    public static Option<string?> SensorIdOption(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "ID" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } id)
                CheckSensorId(result, name, id);
        });
        return option;
    }

    /// <summary>A <c>SubscribeMany</c> pattern argument, checked by the rule the server applies (<see cref="SensorPattern"/>).</summary>
    public static Argument<string> Pattern(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (!SensorPattern.TryParse(result.GetValueOrDefault<string>(), out _, out var problem))
                result.AddError($"{name} {problem}.");
        });
        return argument;
    }

    /// <summary>A file to create or overwrite: its folder must exist and it must not be a folder itself.</summary>
    public static Argument<FileInfo> NewFile(string name, string description)
    {
        var argument = new Argument<FileInfo>(name)
        {
            Description = description,
            CustomParser = result => Text(result) is { Length: > 0 } path && !path.Contains('\0', StringComparison.Ordinal)
                ? new FileInfo(path)
                : Reject<FileInfo>(result, $"<{name}>", "a file path"),
        };
        argument.Validators.Add(result =>
        {
            // From the text, not GetValueOrDefault: that throws for a path that did not convert, which is reported already.
            var path = Text(result);
            if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
                return;
            if (Directory.Exists(path))
                result.AddError($"<{name}> '{path}' is a folder, not a file.");
            else if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder && !Directory.Exists(folder))
                result.AddError($"<{name}> '{path}' cannot be written: there is no folder '{folder}'.");
        });
        return argument;
    }

    /// <summary>
    /// One or more absolute http or https addresses: the option given several times, or a comma list, or both; each
    /// address once, in the order given. <paramref name="defaultValue"/> when not given.
    /// </summary>
    public static Option<Uri[]> HttpUrls(string name, Uri defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "URL[,URL...]",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [defaultValue],
        CustomParser = result =>
        {
            var urls = new List<Uri>();
            foreach (var token in result.Tokens)
            {
                foreach (var part in token.Value.Split(',', StringSplitOptions.TrimEntries))
                {
                    if (!Uri.TryCreate(part, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    {
                        result.AddError($"{name} takes absolute http or https addresses such as http://localhost:5000, not '{part}'.");
                        return [];
                    }
                    if (!urls.Contains(url))
                        urls.Add(url);
                }
            }
            return [.. urls];
        },
    };

    private static void CheckSensorId(SymbolResult result, string name, string? id)
    {
        if (!Contracts.SensorId.IsValid(id, out var problem))
            result.AddError($"{name} {problem}.");
    }

    private static string Text(SymbolResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";

    private static T? Reject<T>(SymbolResult result, string name, string rule)
    {
        result.AddError($"{name} takes {rule}, not '{Text(result)}'.");
        return default;
    }
}
