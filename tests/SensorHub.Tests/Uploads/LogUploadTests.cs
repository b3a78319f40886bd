using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Uploads.LogProcessing;

namespace SensorHub.Tests.Uploads;

/// <summary>A log uploaded over the hub: its result carries entries, debug and the format, over both protocols.</summary>
public sealed class LogUploadTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AnUploadedLogIsSummarisedByEntryLevelAndFormat(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        byte[] bytes = [.. Fixture("issue-17.log"), .. "dbug: SensorHub.Server.Hubs.SensorHub[7]\n      Frame received\n\n"u8];

        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "mixed.log", ContentType = "text/plain" });
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(bytes, 13), cts.Token).WaitAsync(Timeouts.Default);

        var log = Assert.IsType<LogSummary>(result.Log);
        Assert.Equal((22L, 17L, 9L, 5L, 2L, 1L, 0L, "aspnetcore"), Counts(log));
        Assert.Equal([1L, 3L, 8L, 10L, 13L, 15L, 16L, 17L, 18L], log.FirstErrors.Select(e => e.Line));
        Assert.Equal("[03:00:02 ERR] Publishing to plant-9/temp failed", log.FirstErrors[3].Text);
        Assert.Null(result.Csv);
    }
}
