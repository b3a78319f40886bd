using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// An upload belongs to the subject (<c>sub</c>) of the token that began it, never to a name: the owner appends and
/// lists it, and who else sees it follows one rule (admins, and readers without sensor prefixes); to anyone else it
/// answers exactly as an unknown id.
/// </summary>
public sealed class UploadOwnershipTests(ApplicationFixture fixture) : IClassFixture<ApplicationFixture>
{
    private const string UnknownId = "0123456789abcdef0123456789abcdef";
    private readonly SensorHubApplication _app = fixture[Transport.TestServer];

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AnUploadBelongsToTheSubjectThatBeganItWhateverTheName(Protocol protocol)
    {
        var subject = $"device:{Guid.NewGuid():N}";
        // Two devices with one name but two subjects, and the first device again under another name.
        await using var owner = await ConnectAsync(protocol, subject, "sensor-box", Roles.Device);
        await using var namesake = await ConnectAsync(protocol, $"device:{Guid.NewGuid():N}", "sensor-box", Roles.Device);
        await using var renamed = await ConnectAsync(protocol, subject, "sensor-box-renamed", Roles.Device);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3000);
        var begun = await owner.Hub.BeginUploadAsync(new UploadRequest { Name = "box.bin", ContentType = "application/octet-stream", TotalBytes = data.Length });

        var statusByNamesake = await Assert.ThrowsAsync<HubException>(() => namesake.Hub.GetUploadStatusAsync(begun.UploadId));
        var appendByNamesake = await Assert.ThrowsAsync<HubException>(
            () => namesake.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, 1000), cts.Token).WaitAsync(Timeouts.Default));
        var listedByNamesake = await ListAsync(namesake);
        var resumedUnderAnotherName = await renamed.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, 1000), cts.Token).WaitAsync(Timeouts.Default);
        var listedByOwner = await ListAsync(owner);

        await AssertAnswersAsUnknownAsync(namesake, begun.UploadId, statusByNamesake);
        await AssertAnswersAsUnknownAsync(namesake, begun.UploadId, appendByNamesake);
        Assert.DoesNotContain(listedByNamesake, s => s.UploadId == begun.UploadId);
        Assert.Equal((true, UploadStreams.Sha256Of(data)), (resumedUnderAnotherName.Complete, resumedUnderAnotherName.Sha256));
        Assert.Equal([begun.UploadId], listedByOwner.Select(s => s.UploadId));
        Assert.Equal((1, (long)data.Length), _app.Services.QuotaOf(subject));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ATokenWithoutASubjectMayReadButNotBeginAnUpload(Protocol protocol)
    {
        var user = TestUser.Operator($"op-{Guid.NewGuid():N}");
        await using var connection = await _app.ConnectWithTokenAsync(
            protocol, _app.MintToken(SensorHubApplication.ClaimsOf(user, withSubject: false), TimeSpan.FromHours(1)));

        await using var admin = await AdminAsync(protocol);
        var name = $"nobody-{Guid.NewGuid():N}.csv";

        var refused = await Assert.ThrowsAsync<HubException>(
            () => connection.Hub.BeginUploadAsync(new UploadRequest { Name = name, ContentType = "text/csv" }));

        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("your token has no subject", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await ListAsync(admin), s => s.Name == name);
        // It owns nothing, and may still read.
        Assert.Empty(await ListAsync(connection));
    }

    /// <summary>
    /// The owner, admins (prefixes or not) and readers without prefixes see an upload; a device that is not its owner
    /// and every caller bounded by prefixes get the answer an unknown id gets, from every method that takes an id.
    /// Those who see it but do not own it may not append.
    /// </summary>
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task WhoSeesAnUploadAndWhoMayAppendToIt(Protocol protocol)
    {
        var tag = Guid.NewGuid().ToString("N");
        await using var owner = await ConnectAsync(protocol, $"owner-{tag}", "owner", Roles.Device);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2000);
        var complete = await owner.Hub.BeginUploadAsync(new UploadRequest { Name = "seen.bin", ContentType = "application/octet-stream" });
        Assert.True((await owner.Hub.UploadAsync(complete.UploadId, 0, UploadStreams.Chunks(data, 1000), cts.Token)).Complete);
        var unfinished = await owner.Hub.BeginUploadAsync(new UploadRequest { Name = "open.bin", ContentType = "application/octet-stream", TotalBytes = 10 });

        var callers = new (string Who, string[] Roles, string[]? Sensors, bool Sees)[]
        {
            ("another device", [Roles.Device], null, false),
            ("a device bounded by prefixes", [Roles.Device], ["plant-1/"], false),
            ("an operator bounded by prefixes", [Roles.Operator], ["plant-1/"], false),
            ("a viewer bounded by prefixes", [Roles.Viewer], ["plant-1/"], false),
            ("a viewer without prefixes", [Roles.Viewer], null, true),
            ("an operator without prefixes", [Roles.Operator], null, true),
            ("an admin bounded by prefixes", [Roles.Admin], ["plant-1/"], true),
        };
        foreach (var (who, roles, sensors, sees) in callers)
        {
            await using var caller = await ConnectAsync(protocol, $"{who}-{tag}", who, roles, sensors);
            if (sees)
            {
                Assert.True((await caller.Hub.GetUploadStatusAsync(complete.UploadId)).Complete, who);
                Assert.Equal(data, await caller.Hub.DownloadAsync(complete.UploadId, 0, cts.Token));
                Assert.Equal(0, await FirstWatchedAsync(caller, unfinished.UploadId, cts.Token));
                if (!roles.Contains(Roles.Admin) && roles.Contains(Roles.Operator))
                {
                    var append = await Assert.ThrowsAsync<HubException>(
                        () => caller.Hub.UploadAsync(unfinished.UploadId, 0, UploadStreams.Chunks([new byte[10]]), cts.Token).WaitAsync(Timeouts.Default));
                    Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(append.Message));
                    Assert.Contains("belongs to another user", append.Message, StringComparison.Ordinal);
                }
                continue;
            }
            await AssertAnswersAsUnknownAsync(caller, complete.UploadId, await Assert.ThrowsAsync<HubException>(() => caller.Hub.GetUploadStatusAsync(complete.UploadId)));
            await AssertAnswersAsUnknownAsync(caller, complete.UploadId, await Assert.ThrowsAsync<HubException>(() => caller.Hub.DownloadAsync(complete.UploadId, 0, cts.Token)));
            await AssertAnswersAsUnknownAsync(caller, unfinished.UploadId, await Assert.ThrowsAsync<HubException>(() => FirstWatchedAsync(caller, unfinished.UploadId, cts.Token)));
            if (roles.Contains(Roles.Device) || roles.Contains(Roles.Operator))
            {
                await AssertAnswersAsUnknownAsync(caller, unfinished.UploadId, await Assert.ThrowsAsync<HubException>(
                    () => caller.Hub.UploadAsync(unfinished.UploadId, 0, UploadStreams.Chunks([new byte[10]]), cts.Token).WaitAsync(Timeouts.Default)));
            }
        }

        // An admin appends to anyone's upload (the owner's quota counts it); nobody's list but the owner's and an admin's has it.
        await using var admin = await ConnectAsync(protocol, $"admin-{tag}", "admin", Roles.Admin);
        Assert.True((await admin.Hub.UploadAsync(unfinished.UploadId, 0, UploadStreams.Chunks([new byte[10]]), cts.Token).WaitAsync(Timeouts.Default)).Complete);
        Assert.Equal((2, data.Length + 10L), _app.Services.QuotaOf($"owner-{tag}"));
        Assert.Equal([complete.UploadId, unfinished.UploadId], (await ListAsync(owner)).Select(s => s.UploadId));
        Assert.Contains(await ListAsync(admin), s => s.UploadId == unfinished.UploadId);
    }

    // ---- Helpers ----

    private Task<TestConnection> ConnectAsync(Protocol protocol, string subject, string name, string role, string[]? sensors = null) =>
        ConnectAsync(protocol, subject, name, [role], sensors);

    private Task<TestConnection> ConnectAsync(Protocol protocol, string subject, string name, string[] roles, string[]? sensors)
    {
        var claims = new List<Claim> { new(SensorHubUser.SubjectClaim, subject), new(SensorHubUser.NameClaim, name) };
        claims.AddRange(roles.Select(role => new Claim(SensorHubUser.RoleClaim, role)));
        claims.AddRange((sensors ?? []).Select(prefix => new Claim(SensorHubUser.SensorsClaim, prefix)));
        return _app.ConnectWithTokenAsync(protocol, _app.MintToken(claims, TimeSpan.FromHours(1)));
    }

    private Task<TestConnection> AdminAsync(Protocol protocol) => ConnectAsync(protocol, $"admin-{Guid.NewGuid():N}", "admin", Roles.Admin);

    private static Task<IReadOnlyList<UploadStatus>> ListAsync(TestConnection connection) =>
        connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads).WaitAsync(Timeouts.Default);

    /// <summary>The <c>receivedBytes</c> of the first status a <c>WatchUpload</c> sends; the watch is left at once.</summary>
    private static async Task<long> FirstWatchedAsync(TestConnection connection, string uploadId, CancellationToken cancellationToken)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await foreach (var status in connection.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, uploadId, leave.Token))
                return status.ReceivedBytes;
            throw new InvalidOperationException("The watch ended without a status.");
        }
        finally
        {
            await leave.CancelAsync();
        }
    }

    /// <summary>The refusal is word for word what an id the server never made gets, but for the id.</summary>
    private static async Task AssertAnswersAsUnknownAsync(TestConnection connection, string uploadId, HubException refusal)
    {
        var unknown = await Assert.ThrowsAsync<HubException>(() => connection.Hub.GetUploadStatusAsync(UnknownId));
        Assert.Equal(SensorHubErrors.UnknownUpload, SensorHubErrors.CodeOf(refusal.Message));
        Assert.Equal(SensorHubErrors.ServerTextOf(unknown.Message).Replace(UnknownId, uploadId, StringComparison.Ordinal), SensorHubErrors.ServerTextOf(refusal.Message));
    }
}
