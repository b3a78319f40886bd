using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Client;
using SensorHub.ClientSample.Commands;
using SensorHub.Contracts;

namespace SensorHub.ClientSample;

/// <summary>
/// The sample's commands, callable in-process (the tests do) as well as from <c>Program</c>. Exit codes: 0 done (or
/// stopped with Ctrl+C), 1 the server or a file failed the command, 2 the command line is wrong.
/// </summary>
internal static class SampleApp
{
    private const int UsageError = 2;

    // No response files: an argument that starts with '@' (a note such as "@olga look") is meant as written.
    private static readonly ParserConfiguration s_parsing = new() { ResponseFileTokenReplacer = null };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        // Every check runs here, while parsing, so a wrong command line never reaches the server.
        var parsed = BuildCommandLine().Parse(args, s_parsing);
        if (parsed.Errors.Count > 0)
        {
            // One line, one problem; System.CommandLine's own error action would print them all, then the help. A value
            // error goes first: in "--count --url http://host" --count takes "--url" as its value, and the address left
            // over is reported as unrecognized before the real mistake.
            var error = parsed.Errors.FirstOrDefault(e => e.SymbolResult is OptionResult or ArgumentResult) ?? parsed.Errors[0];
            await errors.WriteLineAsync(Describe(error, parsed));
            return UsageError;
        }
        try
        {
            return await parsed.InvokeAsync(
                new InvocationConfiguration
                {
                    Output = output,
                    Error = errors,
                    // Errors are ours to report (below), and Ctrl+C is Program's, which cancels cancellationToken.
                    EnableDefaultExceptionHandler = false,
                    ProcessTerminationTimeout = null,
                },
                cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception ex) when (ex is HubException or HttpRequestException or WebSocketException or SensorHubTransferException or IOException or UnauthorizedAccessException)
        {
            // A server's refusal is shown from its code on, without SignalR's "An unexpected error occurred" in front.
            await errors.WriteLineAsync($"error: {OneLine(SensorHubErrors.ServerTextOf(ex.Message))}");
            return 1;
        }
    }

    /// <summary>The command tree, built afresh for each run, so that runs going at once (the tests' do) share nothing.</summary>
    private static Command BuildCommandLine()
    {
        var server = new ServerOptions();
        // A plain Command rather than RootCommand, whose name is the host's file name ("testhost" under the tests).
        var root = new Command("sensorhub", "A console client for SensorHub.")
        {
            new HelpOption(),
            SensorsCommand.Create(server),
            SubscribeCommand.Create(server),
            SubscribeManyCommand.Create(server),
            PublishCommand.Create(server),
            UploadCommand.Create(server),
            DownloadCommand.Create(server),
            SessionCommands.Create(server),
        };
        server.AddTo(root);
        NeedsSubcommand(root);
        return root;
    }

    /// <summary>
    /// Gives each command that only groups others an action that names its subcommands. Without one, System.CommandLine
    /// reports "Required command was not provided." first, even when the real problem is a misspelt subcommand.
    /// </summary>
    private static void NeedsSubcommand(Command command)
    {
        if (command.Subcommands.Count == 0)
            return;
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = PathOf(result.CommandResult);
            await result.InvocationConfiguration.Error.WriteLineAsync(
                $"{path} needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}. See '{path} --help'.".AsMemory(),
                cancellationToken);
            return UsageError;
        });
        foreach (var subcommand in command.Subcommands)
            NeedsSubcommand(subcommand);
    }

    private static string Describe(ParseError error, ParseResult parsed)
    {
        var message = OneLine(error.Message);
        // Some of System.CommandLine's messages ("Argument 'xml' not recognized. Must be one of: ...") omit the option.
        if (OptionOf(error.SymbolResult) is { } option && !message.Contains(option.Name, StringComparison.Ordinal))
            message = $"{option.Name}: {message}";
        if (!message.EndsWith('.'))
            message += ".";
        return $"{message} See '{PathOf(parsed.CommandResult)} --help'.";
    }

    private static Option? OptionOf(SymbolResult? result) => result switch
    {
        OptionResult option => option.Option,
        ArgumentResult { Parent: OptionResult option } => option.Option,
        _ => null,
    };

    private static string PathOf(CommandResult command) =>
        command.Parent is CommandResult parent ? $"{PathOf(parent)} {command.Command.Name}" : command.Command.Name;

    /// <summary>A message on one line, whatever line breaks and tabs it was laid out with.</summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
