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
    public Option<Uri> Url { get; } = WithRecursive(CheckedArguments.HttpUrl("--url", new Uri(DefaultUrl), "The server."));

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
        var url = result.GetRequiredValue(Url);
        var protocol = result.GetRequiredValue(Protocol) == "json" ? SensorHubProtocol.Json : SensorHubProtocol.MessagePack;
        var given = result.GetValue(Token);
        var user = result.GetRequiredValue(User);
        var errors = result.InvocationConfiguration.Error;

        await using var client = new SensorHubClient(new SensorHubClientOptions
        {
            Url = url,
            Protocol = protocol,
            // Asked at every connection attempt, reconnections included: a dev token is fetched afresh each time, since
            // a restarted server without a configured signing key no longer accepts the old one.
            AccessTokenProvider = () => given is not null ? Task.FromResult<string?>(given) : FetchDevTokenAsync(url, user, CancellationToken.None),
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

    private static Option<T> WithRecursive<T>(Option<T> option)
    {
        option.Recursive = true;
        return option;
    }
}
