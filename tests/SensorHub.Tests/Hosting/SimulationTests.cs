using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hosting;

/// <summary>The simulated sensors that <c>appsettings.json</c> lists, as the README's run command starts them.</summary>
public sealed class SimulationTests(SimulationTests.SimulatingApplication simulating) : IClassFixture<SimulationTests.SimulatingApplication>
{
    private readonly SensorHubApplication _app = simulating.App;

    [Fact]
    public async Task SimulatedSensorsAreListedWithTheirKindsAndUnits()
    {
        await using var connection = await _app.ConnectAsync(Protocol.MessagePack);

        var sensors = await connection.Hub.ListAllSensorsAsync();

        Assert.Equal(
            ["plant-1/line-1/humidity", "plant-1/line-1/pressure", "plant-1/line-1/temperature", "plant-1/line-2/power", "plant-1/line-2/vibration"],
            sensors.Select(s => s.Id));
        var vibration = sensors.Single(s => s.Id.EndsWith("vibration", StringComparison.Ordinal));
        Assert.Equal(("vibration", "mm/s", "Line 2 spindle vibration"), (vibration.Kind, vibration.Unit, vibration.Name));
        var temperature = sensors.Single(s => s.Id.EndsWith("temperature", StringComparison.Ordinal));
        Assert.Equal(("temperature", "°C"), (temperature.Kind, temperature.Unit));
    }

    [Fact]
    public async Task FastSimulatedSensorPublishesConsecutiveReadingsThroughTheIngestPath()
    {
        await using var connection = await _app.ConnectAsync(Protocol.MessagePack);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var readings = await connection.Hub.ReadReadingsAsync("plant-1/line-2/vibration", null, 200, cts.Token);

        Sensors.AssertConsecutive(readings);
        Assert.True(readings.Select(r => r.Value).Distinct().Count() > 100, "The simulated values do not vary.");
        Assert.All(readings.Zip(readings.Skip(1)), pair => Assert.True(pair.Second.Timestamp > pair.First.Timestamp));
    }

    public sealed class SimulatingApplication : IAsyncLifetime
    {
        public SensorHubApplication App { get; } = new(settings: new Dictionary<string, string?> { ["SensorHub:Simulation:Enabled"] = "true" });

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await App.DisposeAsync();
    }
}
