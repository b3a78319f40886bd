using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SensorHub.Server;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// The simulated sensors are the server's own: never refused by the caps, but counted, so more of them than
/// <c>MaxSensors</c> stops the start. On a bare host, as <c>OptionsValidationTests</c> does, to see the start's own error.
/// </summary>
public sealed class SimulationCapTests : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "sensorhub-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataPath))
            Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task MoreSimulatedSensorsThanMaxSensorsStopTheStart()
    {
        await using var app = Build(simulated: 7, maxSensors: 6, enabled: true);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("7 simulated sensors are more than SensorHub:Feeds:MaxSensors (6) allows in all.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7, 7, true)]
    [InlineData(7, 6, false)]
    public async Task AsManySimulatedSensorsAsTheCapOrASwitchedOffSimulationStart(int simulated, int maxSensors, bool enabled)
    {
        await using var app = Build(simulated, maxSensors, enabled);

        await app.StartAsync();
        await app.StopAsync();
    }

    private WebApplication Build(int simulated, int maxSensors, bool enabled)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var settings = new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:DataPath"] = _dataPath,
            ["SensorHub:Simulation:Enabled"] = enabled ? "true" : "false",
            ["SensorHub:Feeds:MaxSensors"] = maxSensors.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // The server's appsettings.json (copied beside the tests) lists five: these replace their ids and add the rest.
        for (var i = 0; i < simulated; i++)
            settings[$"SensorHub:Simulation:Sensors:{i}:Id"] = $"sim/{i}";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSensorHub();
        return builder.Build();
    }
}
