using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Identity;

/// <summary>Who gets in: tokens, guests, and the 401s.</summary>
public sealed class AccessTests(AccessTests.KeyedApplication keyed) : IClassFixture<AccessTests.KeyedApplication>
{
    private const string Key = "a-test-signing-key-of-at-least-32-characters";
    private readonly SensorHubApplication _app = keyed.App;

    /// <summary>A server whose signing key the tests know, so that they can make bad tokens of every kind.</summary>
    public sealed class KeyedApplication : IAsyncLifetime
    {
        public SensorHubApplication App { get; } = new(settings: new Dictionary<string, string?> { ["SensorHub:Auth:SigningKey"] = Key });

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await App.DisposeAsync();
    }

    public static TheoryData<string> BadTokens => new() { "expired", "badly signed", "wrong audience", "garbage" };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadTokenGets401EvenWhereGuestsAreAllowed(string kind)
    {
        var token = kind switch
        {
            "expired" => Mint(Key, "sensorhub", DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-1)),
            "badly signed" => Mint("another-signing-key-of-at-least-32-characters", "sensorhub", DateTime.UtcNow, DateTime.UtcNow.AddHours(1)),
            "wrong audience" => Mint(Key, "somebody-else", DateTime.UtcNow, DateTime.UtcNow.AddHours(1)),
            _ => "not.a.token",
        };

        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(_app, header: token));
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(_app, query: token));
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(_app));
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(_app, query: Mint(Key, "sensorhub", DateTime.UtcNow, DateTime.UtcNow.AddHours(1))));
    }

    [Fact]
    public async Task OutsideDevelopmentThereAreNoGuestsAndNoDevTokens()
    {
        await using var production = new SensorHubApplication(environment: "Production");
        using var client = production.CreateHttpClient();

        using var token = await client.PostAsJsonAsync(SensorHubRoutes.DevToken, new DevTokenRequest { Name = "mallory", Roles = [Roles.Admin] });

        Assert.Equal(HttpStatusCode.NotFound, token.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(production));
        await Assert.ThrowsAnyAsync<Exception>(() => production.ConnectAsync(Protocol.Json, TestUser.Anonymous));
    }

    [Fact]
    public async Task DevTokenEndpointRefusesUnknownRolesAndEmptyNames()
    {
        using var client = _app.CreateHttpClient();

        using var unknownRole = await client.PostAsJsonAsync(SensorHubRoutes.DevToken, new DevTokenRequest { Name = "x", Roles = ["root"] });
        using var noRole = await client.PostAsJsonAsync(SensorHubRoutes.DevToken, new DevTokenRequest { Name = "x", Roles = [] });
        using var noName = await client.PostAsJsonAsync(SensorHubRoutes.DevToken, new DevTokenRequest { Name = " ", Roles = [Roles.Viewer] });

        Assert.Equal(HttpStatusCode.BadRequest, unknownRole.StatusCode);
        Assert.Contains("roles", await unknownRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noRole.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task GuestIsAViewer(Protocol protocol)
    {
        var sensorId = Sensors.NewId();
        var history = await _app.Engine.PublishAsync(sensorId, 2);
        await using var guest = await _app.ConnectAsync(protocol, TestUser.Anonymous);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var readings = await guest.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 2, cts.Token);
        var publish = await Assert.ThrowsAsync<HubException>(() => guest.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish, new[] { new ReadingInput { SensorId = sensorId, Value = 1 } }.ToAsyncEnumerable(), cts.Token));

        Assert.Equal(history, readings);
        Assert.Contains("Not allowed: Publish needs the operator or device or admin role", publish.Message, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, guest.Hub.State);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ViewerReadsButMayNotPublishOrUpload(Protocol protocol)
    {
        var sensorId = Sensors.NewId("plant-9");
        await _app.Engine.PublishAsync(sensorId, 1);
        await using var viewer = await _app.ConnectAsync(protocol, TestUser.Viewer());
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var sensors = await viewer.Hub.ListAllSensorsAsync(cancellationToken: cts.Token);
        var begin = await Assert.ThrowsAsync<HubException>(() => viewer.Hub.BeginUploadAsync(new UploadRequest { Name = "a.csv", ContentType = "text/csv" }));
        var publish = await Assert.ThrowsAsync<HubException>(() => viewer.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish, Array.Empty<ReadingInput>().ToAsyncEnumerable(), cts.Token));

        Assert.Contains(sensors, s => s.Id == sensorId);
        Assert.Contains("Not allowed: BeginUpload needs", begin.Message, StringComparison.Ordinal);
        Assert.Contains("Not allowed: Publish needs", publish.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task DevicePublishesWithinItsPrefixesOnlyAndMayNotSubscribe(Protocol protocol)
    {
        var inside = $"plant-1/{Guid.NewGuid():N}";
        var outside = $"plant-2/{Guid.NewGuid():N}";
        await using var device = await _app.ConnectAsync(protocol, TestUser.Device("dev-7", "plant-1/"));
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var result = await device.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish,
            new[]
            {
                new ReadingInput { SensorId = inside, Value = 1 },
                new ReadingInput { SensorId = outside, Value = 2 },
                new ReadingInput { SensorId = inside, Value = 3 },
            }.ToAsyncEnumerable(),
            cts.Token);
        var subscribe = await Assert.ThrowsAsync<HubException>(() => device.Hub.ReadReadingsAsync(inside, null, 1, cts.Token));

        Assert.Equal((2L, 1L), (result.Accepted, result.Rejected));
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1L, outside), (rejection.Index, rejection.SensorId));
        Assert.Contains($"not allowed to publish to sensor '{outside}'", rejection.Reason, StringComparison.Ordinal);
        Assert.Null(await _app.Engine.FindSensorAsync(outside, CancellationToken.None));
        Assert.Contains("Not allowed: Subscribe needs the viewer or operator or admin role", subscribe.Message, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, device.Hub.State);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SensorPrefixesBoundWhatAViewerReads(Protocol protocol)
    {
        var mine = $"site-a/{Guid.NewGuid():N}";
        var theirs = $"site-b/{Guid.NewGuid():N}";
        await _app.Engine.PublishAsync(mine, 1);
        await _app.Engine.PublishAsync(theirs, 1);
        await using var viewer = await _app.ConnectAsync(protocol, new TestUser("sam", [Roles.Viewer], ["site-a/"]));
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var sensors = await viewer.Hub.ListAllSensorsAsync(cancellationToken: cts.Token);
        var refused = await Assert.ThrowsAsync<HubException>(() => viewer.Hub.ReadBatchesAsync(theirs, null, 1, cts.Token));
        var readings = await viewer.Hub.ReadReadingsAsync(mine, new SubscribeOptions { FromSequence = 0 }, 1, cts.Token);

        Assert.All(sensors, s => Assert.StartsWith("site-a/", s.Id, StringComparison.Ordinal));
        Assert.Contains(sensors, s => s.Id == mine);
        Assert.Contains($"Not allowed: your token may not read sensor '{theirs}'", refused.Message, StringComparison.Ordinal);
        Assert.Single(readings);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task UploadsBelongToTheirUploader(Protocol protocol)
    {
        var sensorInside = $"line-1/{Guid.NewGuid():N}";
        var sensorOutside = $"line-2/{Guid.NewGuid():N}";
        await using var device = await _app.ConnectAsync(protocol, TestUser.Device($"dev-{Guid.NewGuid():N}", "line-1/"));
        await using var other = await _app.ConnectAsync(protocol, TestUser.Device($"dev-{Guid.NewGuid():N}"));
        await using var colleague = await _app.ConnectAsync(protocol, TestUser.Operator($"op-{Guid.NewGuid():N}"));
        await using var admin = await _app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var csv = Encoding.UTF8.GetBytes($"{sensorInside},1767225600000,1\n{sensorOutside},1767225600000,2\n");

        var begun = await device.Hub.BeginUploadAsync(new UploadRequest { Name = "rows.csv", ContentType = "text/csv", TotalBytes = csv.Length });
        // Another device may not even see it; an operator may see (and download) it, but not append to it.
        var appendByOther = await Assert.ThrowsAsync<HubException>(() => other.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(csv, 1024), cts.Token));
        var statusByOther = await Assert.ThrowsAsync<HubException>(() => other.Hub.GetUploadStatusAsync(begun.UploadId));
        var appendByColleague = await Assert.ThrowsAsync<HubException>(() => colleague.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(csv, 1024), cts.Token));
        var statusByColleague = await colleague.Hub.GetUploadStatusAsync(begun.UploadId);
        var result = await device.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(csv, 1024), cts.Token);
        var mine = await device.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads, cts.Token);
        var theirs = await other.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads, cts.Token);
        var all = await admin.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads, cts.Token);

        Assert.Contains($"no upload '{begun.UploadId}' is known", appendByOther.Message, StringComparison.Ordinal);
        Assert.Contains($"no upload '{begun.UploadId}' is known", statusByOther.Message, StringComparison.Ordinal);
        Assert.Contains("belongs to another user", appendByColleague.Message, StringComparison.Ordinal);
        Assert.Equal(0, statusByColleague.ReceivedBytes);
        Assert.Equal((2L, 1L, 1L), (result.Csv!.Rows, result.Csv.Accepted, result.Csv.Rejected));
        Assert.Contains($"not allowed to publish to sensor '{sensorOutside}'", result.Csv.FirstRejections[0].Reason, StringComparison.Ordinal);
        Assert.Equal([begun.UploadId], mine.Select(u => u.UploadId));
        Assert.DoesNotContain(theirs, u => u.UploadId == begun.UploadId);
        Assert.Contains(all, u => u.UploadId == begun.UploadId);
    }

    private static async Task<HttpStatusCode> NegotiateAsync(SensorHubApplication app, string? header = null, string? query = null)
    {
        using var client = app.CreateHttpClient();
        var path = $"{SensorHubRoutes.Hub}/negotiate?negotiateVersion=1" + (query is null ? "" : $"&access_token={Uri.EscapeDataString(query)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (header is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", header);
        using var response = await client.SendAsync(request).WaitAsync(Timeouts.Default);
        return response.StatusCode;
    }

    private static string Mint(string key, string audience, DateTime notBefore, DateTime expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("name", "mallory"), new Claim("role", Roles.Admin)]),
            Issuer = "sensorhub",
            Audience = audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
}
