using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Records written before uploads were owned by subject carry the owner's name only. Such an upload is owned by
/// nobody: admins and readers without sensor prefixes see and download it, nobody (not even the user of that name,
/// nor an admin) appends to it, no one's <c>ListUploads</c> but an admin's has it, and it counts in no quota.
/// </summary>
public sealed class UploadLegacyRecordTests
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AnUploadWhoseRecordNamesItsOwnerOnlyIsOwnedByNobody(Protocol protocol)
    {
        using var folder = new SharedDataFolder();
        var data = UploadStreams.RandomBytes(5000);
        var completeId = Guid.NewGuid().ToString("N");
        var unfinishedId = Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(folder.Path, completeId + ".json"), LegacyRecord(completeId, "alice", complete: true, UploadStreams.Sha256Of(data)));
        await File.WriteAllBytesAsync(Path.Combine(folder.Path, completeId + ".data"), data);
        await File.WriteAllTextAsync(Path.Combine(folder.Path, unfinishedId + ".json"), LegacyRecord(unfinishedId, "alice", complete: false, sha256: null));
        await File.WriteAllBytesAsync(Path.Combine(folder.Path, unfinishedId + ".data"), data[..1000]);
        await using var app = new SensorHubApplication(Transport.TestServer, folder.Settings);
        // "alice" is the name in the records, and the subject of her dev token.
        await using var alice = await app.ConnectAsync(protocol, TestUser.Device("alice"));
        await using var aliceOperator = await app.ConnectAsync(protocol, TestUser.Operator("alice"));
        await using var viewer = await app.ConnectAsync(protocol, TestUser.Viewer($"vera-{Guid.NewGuid():N}"));
        await using var admin = await app.ConnectAsync(protocol, TestUser.Admin);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        // Seen and downloaded by those who see every upload.
        Assert.Equal(data, await admin.Hub.DownloadAsync(completeId, 0, cts.Token));
        Assert.Equal(data, await viewer.Hub.DownloadAsync(completeId, 0, cts.Token));
        Assert.Equal(1000, (await viewer.Hub.GetUploadStatusAsync(unfinishedId)).ReceivedBytes);
        Assert.Equal(new[] { completeId, unfinishedId }.Order(), (await ListAsync(admin)).Select(s => s.UploadId).Intersect([completeId, unfinishedId]).Order());
        // Not the name's: a device called alice does not even see them, and lists none.
        var byName = await Assert.ThrowsAsync<HubException>(() => alice.Hub.GetUploadStatusAsync(completeId));
        Assert.Equal(SensorHubErrors.UnknownUpload, SensorHubErrors.CodeOf(byName.Message));
        Assert.Empty(await ListAsync(alice));
        Assert.Empty(await ListAsync(aliceOperator));
        // Nobody appends, neither an operator called alice who sees it nor an admin.
        foreach (var caller in new[] { aliceOperator, admin })
        {
            var append = await Assert.ThrowsAsync<HubException>(
                () => caller.Hub.UploadAsync(unfinishedId, 1000, UploadStreams.Chunks([data[1000..]]), cts.Token).WaitAsync(Timeouts.Default));
            Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(append.Message));
            Assert.Contains($"upload '{unfinishedId}' has no owner", append.Message, StringComparison.Ordinal);
        }
        Assert.Equal(1000, (await admin.Hub.GetUploadStatusAsync(unfinishedId)).ReceivedBytes);
        // In no quota: not even alice's (her subject is her name here).
        Assert.Equal((0, 0L), app.Services.QuotaOf("alice"));
    }

    private static Task<IReadOnlyList<UploadStatus>> ListAsync(TestConnection connection) =>
        connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads).WaitAsync(Timeouts.Default);

    /// <summary>A record as servers wrote them before owners had ids: <c>owner</c> is the user's name.</summary>
    private static string LegacyRecord(string id, string owner, bool complete, string? sha256) => $$"""
        {
          "id": "{{id}}",
          "name": "{{id}}.bin",
          "contentType": "application/octet-stream",
          "owner": "{{owner}}",
          "totalBytes": 5000,
          "expectedSha256": null,
          "createdUtc": "{{DateTime.UtcNow.AddHours(-1):O}}",
          "updatedUtc": "{{DateTime.UtcNow.AddMinutes(-30):O}}",
          "complete": {{(complete ? "true" : "false")}},
          "sha256": {{(sha256 is null ? "null" : $"\"{sha256}\"")}},
          "error": null,
          "processed": null
        }
        """;
}
