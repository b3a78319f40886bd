using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Client;
using SensorHub.ClientSample.Commands;
using SensorHub.Contracts;

namespace SensorHub.ClientSample;

/// <summary>The sample's commands, callable in-process (the tests do) as well as from <c>Program</c>.</summary>
internal static class SampleApp
{
    public const string DefaultUrl = "http://localhost:5000";

    private const string Usage = """
        usage: sensorhub <command> [options]

          sensors                              list the sensors
          subscribe <sensorId> [--from N] [--max-rate R] [--count N]
                                               print readings live until Ctrl+C (or N readings)
          publish <sensorId> [--rate HZ] [--count N]
                                               stream generated readings until Ctrl+C (or N readings)
          upload <file> [--content-type T]     upload with a progress bar; resumes if the connection drops
          download <uploadId> <file>           download a stored upload
          session join <id>                    print who comes and goes, and the annotations
          session annotate <id> <text> [--sensor S] [--sequence N]

        every command takes:
          --url URL                 the server (default http://localhost:5000)
          --protocol json|msgpack   the hub protocol (default msgpack)
          --token TOKEN             a bearer token; without one, a dev token is fetched where the server offers them
          --user NAME               the name to fetch a dev token for (default: your user name)
        """;

    private static readonly string[] s_common = ["--url", "--protocol", "--token", "--user"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                await output.WriteLineAsync(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            var line = CommandLine.Parse(args[1..]);
            return args[0] switch
            {
                "sensors" => await WithClientAsync(line, [], (client, ct) => SensorsCommand.RunAsync(client, output, ct), cancellationToken),
                "subscribe" => await WithClientAsync(line.Requires("sensorId"), ["--from", "--max-rate", "--count"], (client, ct) => SubscribeCommand.RunAsync(client, line, output, errors, ct), cancellationToken),
                "publish" => await WithClientAsync(line.Requires("sensorId"), ["--rate", "--count"], (client, ct) => PublishCommand.RunAsync(client, line, output, ct), cancellationToken),
                "upload" => await WithClientAsync(line.Requires("file"), ["--content-type"], (client, ct) => UploadCommand.RunAsync(client, line, output, ct), cancellationToken),
                "download" => await WithClientAsync(line.Requires("uploadId", "file"), [], (client, ct) => DownloadCommand.RunAsync(client, line, output, ct), cancellationToken),
                "session" => await WithClientAsync(line.Requires("join|annotate", "sessionId"), ["--sensor", "--sequence"], (client, ct) => SessionCommands.RunAsync(client, line, output, ct), cancellationToken),
                _ => throw new UsageException($"Unknown command '{args[0]}'."),
            };
        }
        catch (UsageException ex)
        {
            await errors.WriteLineAsync($"{ex.Message}\n\n{Usage}");
            return 2;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception ex) when (ex is HubException or HttpRequestException or SensorHubTransferException or IOException)
        {
            await errors.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> WithClientAsync(
        CommandLine line, string[] options, Func<SensorHubClient, CancellationToken, Task<int>> command, CancellationToken cancellationToken)
    {
        line.ExpectOnly([.. s_common, .. options]);
        var url = new Uri(line.Option("--url") ?? DefaultUrl);
        var protocol = line.Option("--protocol") switch
        {
            null or "msgpack" or "messagepack" => SensorHubProtocol.MessagePack,
            "json" => SensorHubProtocol.Json,
            var other => throw new UsageException($"--protocol is json or msgpack, not '{other}'."),
        };
        var token = line.Option("--token") ?? await FetchDevTokenAsync(url, line.Option("--user") ?? Environment.UserName, cancellationToken);

        await using var client = new SensorHubClient(new SensorHubClientOptions
        {
            Url = url,
            Protocol = protocol,
            AccessTokenProvider = () => Task.FromResult(token),
        });
        await client.StartAsync(cancellationToken);
        return await command(client, cancellationToken);
    }

    /// <summary>A dev token for an operator, where the server offers them (in Development); otherwise none, and the caller is a guest where guests are allowed.</summary>
    private static async Task<string?> FetchDevTokenAsync(Uri url, string user, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = url };
        using var response = await http.PostAsJsonAsync(
            SensorHubRoutes.DevToken, new DevTokenRequest { Name = user, Roles = ["operator"] }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DevTokenResponse>(cancellationToken))?.AccessToken;
    }
}
