using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Health;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Uploads;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Health;

/// <summary>
/// Liveness answers 200 whatever readiness says; readiness is 503, naming the failing check, while the server stops,
/// while the data folder cannot be written and before the uploads are loaded, and 200 again once that is over.
/// </summary>
public sealed class HealthEndpointTests
{
    private static readonly string[] ReadyChecks = ["data-folder", "stopping", "uploads"];

    [Fact]
    public async Task ANodeThatStartedIsLiveAndReadyWithEveryCheckNamed()
    {
        await using var app = new SensorHubApplication();
        using var client = app.CreateHttpClient();

        var live = await HealthAnswer.GetAsync(client, SensorHubRoutes.HealthLive);
        var alias = await HealthAnswer.GetAsync(client, SensorHubRoutes.Health);
        var ready = await HealthAnswer.GetAsync(client, SensorHubRoutes.Ready);

        Assert.Equal((HttpStatusCode.OK, "Healthy"), (live.Code, live.Status));
        Assert.Empty(live.Checks);
        Assert.Equal(live.Body, alias.Body);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (ready.Code, ready.Status));
        Assert.Equal(ReadyChecks, ready.Checks.Keys.Order(StringComparer.Ordinal));
        Assert.All(ready.Checks.Values, c => Assert.Equal(("Healthy", (string?)null), c));
    }

    [Theory]
    [InlineData(Transport.TestServer)]
    [InlineData(Transport.Kestrel)]
    public async Task ReadinessIs503FromTheMomentTheServerBeginsToStopAndLivenessStays200(Transport transport)
    {
        await using var app = new SensorHubApplication(transport);
        using var client = app.CreateHttpClient();
        Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.Ready)).Code);

        // What the drain raises first, before it waits for streams and connections (see ShutdownTests).
        app.Services.GetRequiredService<ShutdownSignal>().Raise();

        var ready = await HealthAnswer.GetAsync(client, SensorHubRoutes.Ready);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), (ready.Code, ready.Status));
        Assert.Equal(["stopping"], ready.Failing);
        Assert.Contains("stopping", ready.Checks["stopping"].Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.HealthLive)).Code);
        Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.Health)).Code);
    }

    [Fact]
    public async Task ReadinessIs503WhileTheDataFolderCannotBeWrittenAnd200After()
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?> { ["SensorHub:Health:DataFolderProbeInterval"] = "00:00:00" });
        using var client = app.CreateHttpClient();
        var folder = app.Services.GetRequiredService<UploadFileStore>().Root;
        await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.OK);

        // The tests run as root, whom permissions do not stop: a file where the folder was cannot be written into.
        var aside = folder + ".aside";
        Directory.Move(folder, aside);
        await File.WriteAllTextAsync(folder, "not a folder");
        try
        {
            var ready = await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(["data-folder"], ready.Failing);
            Assert.Contains("not writable", ready.Checks["data-folder"].Description, StringComparison.Ordinal);
            Assert.DoesNotContain(folder, ready.Body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await HealthAnswer.GetAsync(client, SensorHubRoutes.HealthLive)).Code);
        }
        finally
        {
            File.Delete(folder);
            Directory.Move(aside, folder);
        }
        await HealthAnswer.WaitForReadyAsync(client, HttpStatusCode.OK);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder, "*.probe"));
    }

    [Fact]
    public async Task TheDataFolderProbeIsReusedForItsIntervalThenRunsAgain()
    {
        await using var app = new SensorHubApplication();
        var folder = app.Services.GetRequiredService<UploadFileStore>().Root;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var check = ActivatorUtilities.CreateInstance<DataFolderCheck>(app.Services, time);
        var context = new HealthCheckContext();

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
        var aside = folder + ".aside";
        Directory.Move(folder, aside);
        await File.WriteAllTextAsync(folder, "not a folder");
        try
        {
            time.Advance(TimeSpan.FromSeconds(4.9));
            Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
            time.Advance(TimeSpan.FromSeconds(0.1));
            Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(context)).Status);
        }
        finally
        {
            File.Delete(folder);
            Directory.Move(aside, folder);
        }
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
    }

    /// <remarks>
    /// The server loads the uploads in a hosted service's start, before it takes requests, so no request can see them
    /// unloaded: the check is asked directly, about an upload service of its own whose load has not run yet.
    /// </remarks>
    [Fact]
    public async Task TheUploadsCheckFailsUntilTheUploadsAreLoaded()
    {
        await using var app = new SensorHubApplication();
        using var uploads = ActivatorUtilities.CreateInstance<UploadService>(app.Services);
        var check = new UploadsLoadedCheck(uploads);

        var before = await check.CheckHealthAsync(new HealthCheckContext());
        await uploads.LoadAsync(CancellationToken.None);
        var after = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("not loaded", before.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.True(app.Services.GetRequiredService<UploadService>().IsLoaded);
    }
}
