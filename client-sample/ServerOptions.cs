using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample;

/// <summary>
/// The options every command takes to reach the server (<c>--url</c>, <c>--protocol</c>, <c>--token</c>,
/// <c>--user</c>), and the connection made from them once the whole command line has been checked.
/// </summary>
internal sealed class ServerOptions
{
    public const string DefaultUrl = "http://localhost:5000";

    // Recursive: given once on the root, they are accepted, and listed in --help, by every command below it.
    // Several servers (nodes of one cluster) as --url a --url b or --url a,b: the client fails over between them.
    public Option<Uri[]> Url { get; } = WithRecursive(WithAlias(
        CheckedArguments.HttpUrls("--url", new Uri(DefaultUrl), "The server; several (repeated or comma-separated) to fail over between the nodes of a cluster."),
        "--server"));

    public Option<string> Protocol { get; } = WithRecursive(new Option<string>("--protocol")
    {
        Description = "The hub protocol.",
        DefaultValueFactory = _ => "msgpack",
    }.AcceptOnlyFromAmong("json", "msgpack"));

    public Option<string?> Token { get; } = WithRecursive(new Option<string?>("--token")
    {
        Description = "A bearer token; without one, a dev token is fetched where the server offers them.",
        HelpName = "TOKEN",
    });

    public Option<string> User { get; } = WithRecursive(new Option<string>("--user")
    {
        Description = "The name to fetch a dev token for.",
        HelpName = "NAME",
        DefaultValueFactory = _ => Environment.UserName,
    });

    public void AddTo(Command root)
    {
        root.Add(Url);
        root.Add(Protocol);
        root.Add(Token);
        root.Add(User);
    }

    /// <summary>Connects as <paramref name="result"/> says, runs <paramref name="command"/> over the connection, and closes it.</summary>
    public async Task<int> RunAsync(
        ParseResult result, Func<SensorHubClient, CancellationToken, Task<int>> command, CancellationToken cancellationToken)
    {
        var urls = result.GetRequiredValue(Url);
        var protocol = result.GetRequiredValue(Protocol) == "json" ? SensorHubProtocol.Json : SensorHubProtocol.MessagePack;
        var given = result.GetValue(Token);
        var user = result.GetRequiredValue(User);
        var errors = result.InvocationConfiguration.Error;

        await using var client = new SensorHubClient(new SensorHubClientOptions
        {
            ServerUrls = urls,
            Protocol = protocol,
            // Asked at every connection attempt, reconnections included: a dev token is fetched afresh each time, since
            // a restarted server without a configured signing key no longer accepts the old one.
            // The nodes of a cluster share their signing key: a dev token from any node that answers is good on all.
            AccessTokenProvider = () => given is not null ? Task.FromResult<string?>(given) : FetchDevTokenAsync(urls, user, CancellationToken.None),
        });
        // Say when the connection goes and comes back, so that a wait for a server that is away is not silent.
        client.ConnectionStateChanged += (_, e) =>
        {
            if (e.Change is ConnectionChange.Reconnecting or ConnectionChange.Reconnected)
                errors.WriteLine($"-- connection {e.Change.ToString().ToLowerInvariant()}");
        };
        await client.StartAsync(cancellationToken);
        return await command(client, cancellationToken);
    }

    /// <summary>A dev token for an operator, where the server offers them (in Development); otherwise none, and the caller is a guest where guests are allowed.</summary>
    private static async Task<string?> FetchDevTokenAsync(Uri[] urls, string user, CancellationToken cancellationToken)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await FetchDevTokenAsync(urls[i], user, cancellationToken);
            }
            catch (HttpRequestException) when (i < urls.Length - 1)
            {
                // That node does not answer: ask the next.
            }
        }
    }

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

    private static Option<T> WithAlias<T>(Option<T> option, string alias)
    {
        option.Aliases.Add(alias);
        return option;
    }

    private static Option<T> WithRecursive<T>(Option<T> option)
    {
        option.Recursive = true;
        return option;
    }
}
