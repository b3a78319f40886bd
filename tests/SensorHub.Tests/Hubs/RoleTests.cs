using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// Who may call what, by role, decided in one place (the hub's authorization filter) before anything else: every hub
/// method against every role, refused with <c>not_allowed</c> and the roles it needs exactly where docs/contract.md's role
/// table says, and never refused for its role elsewhere.
/// </summary>
public sealed class RoleTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    private const string None = "none";

    /// <summary>Each method that needs a role, the roles that grant it (docs/contract.md, "Identity and access"), and a call of it.</summary>
    private static readonly Dictionary<string, (string[] Roles, Func<HubConnection, CancellationToken, Task> Call)> s_methods = new()
    {
        [SensorHubMethods.Subscribe] = (Readers, (hub, ct) => ReadOneAsync(hub, SensorHubMethods.Subscribe, [Sensors.NewId("role"), null], ct)),
        [SensorHubMethods.SubscribeBatches] = (Readers, (hub, ct) => ReadOneAsync(hub, SensorHubMethods.SubscribeBatches, [Sensors.NewId("role"), null], ct)),
        // A malformed pattern: an allowed caller is refused at once for it (invalid_argument), after the role check.
        [SensorHubMethods.SubscribeMany] = (Readers, (hub, ct) => ReadOneAsync(hub, SensorHubMethods.SubscribeMany, ["role/#/x", null], ct)),
        [SensorHubMethods.ListSensors] = (Readers, (hub, ct) => hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, null, ct)),
        [SensorHubMethods.Publish] = (Publishers, (hub, ct) => hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Empty<ReadingInput>(), ct)),
        [SensorHubMethods.PublishBatches] = (Publishers, (hub, ct) => hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, Empty<ReadingInput[]>(), ct)),
        [SensorHubMethods.BeginUpload] = (Publishers, (hub, ct) => hub.InvokeAsync<UploadStatus>(
            SensorHubMethods.BeginUpload, new UploadRequest { Name = "role.bin", ContentType = "application/octet-stream" }, ct)),
        [SensorHubMethods.Upload] = (Publishers, (hub, ct) => hub.InvokeAsync<UploadResult>(SensorHubMethods.Upload, NewId(), 0L, Empty<byte[]>(), ct)),
        [SensorHubMethods.CreateSession] = (Collaborators, (hub, ct) => hub.InvokeAsync<SessionInfo>(
            SensorHubMethods.CreateSession, new CreateSessionRequest { Title = "roles", SensorIds = [] }, ct)),
        [SensorHubMethods.Annotate] = (Collaborators, (hub, ct) => hub.InvokeAsync(SensorHubMethods.Annotate, NewId(), new AnnotationInput { Text = "x" }, ct)),
        [SensorHubMethods.SetSessionSensors] = (Collaborators, (hub, ct) => hub.InvokeAsync(SensorHubMethods.SetSessionSensors, NewId(), Array.Empty<string>(), ct)),
        [SensorHubMethods.JoinSession] = (Readers, (hub, ct) => ReadOneAsync(hub, SensorHubMethods.JoinSession, [NewId()], ct)),
        [SensorHubMethods.EndSession] = (Readers, (hub, ct) => hub.InvokeAsync(SensorHubMethods.EndSession, NewId(), ct)),
        [SensorHubMethods.ListSessions] = (Readers, (hub, ct) => hub.InvokeAsync<SessionInfo[]>(SensorHubMethods.ListSessions, ct)),
    };

    private static string[] Readers => [Roles.Viewer, Roles.Operator, Roles.Admin];

    private static string[] Publishers => [Roles.Operator, Roles.Device, Roles.Admin];

    private static string[] Collaborators => [Roles.Operator, Roles.Admin];

    public static TheoryData<string, Protocol> Cases
    {
        get
        {
            var cases = new TheoryData<string, Protocol>();
            foreach (var role in Roles.All.Append(None))
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                    cases.Add(role, protocol);
            }
            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryMethodIsRefusedExactlyToTheRolesThatMayNotCallIt(string role, Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        // A token without any role is still a valid token: it may connect, and call nothing that needs one.
        var token = role == None
            ? app.MintToken(SensorHubApplication.ClaimsOf(new TestUser("roleless", [])), TimeSpan.FromMinutes(5))
            : await app.GetTokenAsync(new TestUser($"role-{role}", role));
        await using var connection = await app.ConnectWithTokenAsync(protocol, token);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        foreach (var (method, (roles, call)) in s_methods)
        {
            var error = await Record.ExceptionAsync(() => call(connection.Hub, cts.Token));
            var refusedForRole = error is HubException refusal
                && SensorHubErrors.CodeOf(refusal.Message) == SensorHubErrors.NotAllowed
                && refusal.Message.Contains($"Not allowed: {method} needs the {string.Join(" or ", roles)} role.", StringComparison.Ordinal);
            Assert.True(refusedForRole == !roles.Contains(role),
                $"{method} as {role}: expected {(roles.Contains(role) ? "no role refusal" : "a role refusal")}, got {error?.Message ?? "success"}");
        }
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    private static async Task ReadOneAsync(HubConnection hub, string method, object?[] arguments, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // An allowed stream on an unknown sensor or session ends with its own error at once.
        await foreach (var _ in hub.StreamAsyncCore<object>(method, arguments, stop.Token))
            break;
        await stop.CancelAsync();
    }

    private static async IAsyncEnumerable<T> Empty<T>()
    {
        await Task.Yield();
        yield break;
    }

    private static string NewId() => Guid.NewGuid().ToString("N");
}
