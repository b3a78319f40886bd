using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using SensorHub.Server.Sessions.Internal;
using SensorHub.Server.Uploads;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// What the server holds open for its connections: each is released when its connection goes, so after a round
/// (every fuzz connection gone) all of it is back where it was before.
/// </summary>
/// <param name="Connections">Hub connections (<c>/api/stats</c>).</param>
/// <param name="ActiveStreams">Server-to-client stream generators running (<c>/api/stats</c>).</param>
/// <param name="Subscriptions">Live subscriptions attached to the engine (<c>IFeedEngine.GetCounters()</c>).</param>
/// <param name="UploadWriters"><c>Upload</c> streams appending.</param>
/// <param name="UploadWatchers"><c>WatchUpload</c> watchers registered, over every upload.</param>
/// <param name="SessionMembers">Joined session streams, over every open session.</param>
internal sealed record ServerHoldings(long Connections, long ActiveStreams, long Subscriptions, int UploadWriters, int UploadWatchers, int SessionMembers)
{
    private static readonly SensorHubUser s_inspector = new("fuzz-inspector", "fuzz-inspector", [Roles.Admin], null);

    /// <summary>
    /// What <paramref name="app"/> holds now. <paramref name="client"/> reads <c>/api/stats</c> with an admin's token
    /// (the endpoint may need a signed-in caller); one client for the whole run, since the test server's factory keeps
    /// every client it made until it is disposed.
    /// </summary>
    public static async Task<ServerHoldings> ReadAsync(SensorHubApplication app, HttpClient client)
    {
        var stats = (await client.GetFromJsonAsync<ServerStats>(SensorHubRoutes.Stats).WaitAsync(Timeouts.Default))!;

        var uploads = app.Services.GetRequiredService<UploadService>();
        var watchers = 0;
        foreach (var upload in await uploads.ListAsync(s_inspector, CancellationToken.None))
            watchers += uploads.Peek(upload.UploadId)?.WatcherCount ?? 0;

        var members = 0;
        if (app.Services.GetRequiredService<ISessionStore>() is InMemorySessionStore store)
        {
            foreach (var session in await store.ListAsync(CancellationToken.None))
                members += store.Find(session.Info.Id)?.MemberCount ?? 0;
        }

        return new ServerHoldings(
            stats.Connections, stats.ActiveStreams, app.Engine.GetCounters().Subscriptions, uploads.ActiveWriters, watchers, members);
    }

    /// <summary>An HTTP client for <see cref="ReadAsync"/>, with <paramref name="adminToken"/>.</summary>
    public static HttpClient StatsClient(SensorHubApplication app, string adminToken)
    {
        var client = app.CreateHttpClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        return client;
    }

    /// <summary>Waits until <paramref name="app"/> holds what it held at <paramref name="baseline"/>; the last reading otherwise.</summary>
    public static async Task<ServerHoldings?> WaitForAsync(SensorHubApplication app, HttpClient client, ServerHoldings baseline)
    {
        // Generous: a connection's end reaches the server at once over the test server and over loopback; a leak never ends.
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (true)
        {
            var now = await ReadAsync(app, client);
            if (now == baseline)
                return null;
            if (DateTime.UtcNow > deadline)
                return now;
            await Task.Delay(10);
        }
    }
}
