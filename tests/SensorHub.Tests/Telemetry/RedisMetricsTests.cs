using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SensorHub.Server.Redis;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Redis.Sessions;

namespace SensorHub.Tests.Telemetry;

/// <summary>
/// The Redis connection's instruments on one node of a cluster of the class's own: the availability ping's round trip
/// in seconds, and a reconnection when the test cuts the node's connections (<c>CLIENT KILL</c>).
/// </summary>
public sealed class RedisMetricsTests(RedisSessionCluster cluster) : IClassFixture<RedisSessionCluster>
{
    [Fact]
    public async Task EveryAnsweredPingRecordsItsRoundTripInSeconds()
    {
        using var duration = new MetricCollector<double>(
            cluster.A.Services.GetRequiredService<IMeterFactory>(), SensorHubTelemetry.MeterName, RedisMetrics.DurationInstrument);

        await duration.WaitForMeasurementsAsync(2, Timeouts.Default);

        Assert.Equal("s", duration.Instrument!.Unit);
        Assert.All(duration.GetMeasurementSnapshot(), m =>
        {
            Assert.InRange(m.Value, 0, Timeouts.Default.TotalSeconds);
            Assert.Empty(m.Tags);
        });
    }

    [Fact]
    public async Task ACutConnectionThatComesBackIsAReconnection()
    {
        using var reconnections = new MetricCollector<long>(
            cluster.B.Services.GetRequiredService<IMeterFactory>(), SensorHubTelemetry.MeterName, RedisMetrics.ReconnectionsInstrument);
        var name = "sensorhub-" + RedisNodes.NodeIdOf(cluster.B);

        // Only node B's connections (both carry its client name); StackExchange.Redis reconnects them by itself.
        var clients = ((string)(await cluster.Redis.AdminServer.ExecuteAsync("CLIENT", "LIST"))!).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var ofB = clients
            .Select(line => line.Split(' ').Select(field => field.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]))
            .Where(fields => fields.GetValueOrDefault("name") == name)
            .Select(fields => fields["id"])
            .ToArray();
        Assert.NotEmpty(ofB);
        foreach (var id in ofB)
            await cluster.Redis.AdminServer.ExecuteAsync("CLIENT", "KILL", "ID", id);

        await reconnections.WaitForMeasurementsAsync(1, Timeouts.Default);
        Assert.Equal("{reconnection}", reconnections.Instrument!.Unit);
        Assert.All(reconnections.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal(1, m.Value);
            Assert.Empty(m.Tags);
        });
    }
}
