using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hosting;

public sealed class RestartTests
{
    [Fact]
    public async Task RestartedServerIssuesSequencesAboveThoseItIssuedBeforeAndBelowTwoToThe53()
    {
        var sensorId = Sensors.NewId();
        long before;
        await using (var first = new SensorHubApplication())
        {
            var readings = await first.Engine.PublishAsync(sensorId, 100);
            before = readings[^1].Sequence;
        }

        await using var second = new SensorHubApplication();
        var after = await second.Engine.PublishAsync(sensorId, 1);

        Assert.True(after[0].Sequence > before, $"After the restart {after[0].Sequence} came, not above {before}.");
        Assert.True(after[0].Sequence < 1L << 53, $"{after[0].Sequence} is not below 2^53.");
        Assert.True(before < 1L << 53);
    }
}
