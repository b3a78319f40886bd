using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SensorHub.Server;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// The server's own registration (<c>AddSensorHub</c>) on a bare host on 127.0.0.1, for tests of what happens at start:
/// WebApplicationFactory's deferred host can report a failed start as a disposed service provider instead of the start's
/// own exception. Each host gets the test's data folder, deleted when the test is disposed.
/// </summary>
public sealed class BareHost : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "sensorhub-tests", Guid.NewGuid().ToString("N"));

    /// <summary>A host with <paramref name="settings"/> over the defaults (and the test's data folder), built, not started.</summary>
    public WebApplication Build(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The test's data folder first, so that a test of the setting itself overrides it.
        builder.Configuration.AddInMemoryCollection([new("SensorHub:Uploads:DataPath", _dataPath)]);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSensorHub();
        return builder.Build();
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataPath))
            Directory.Delete(_dataPath, recursive: true);
    }
}
