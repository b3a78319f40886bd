using Microsoft.Extensions.Options;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hosting;

public sealed class OptionsValidationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "SensorHub:Feeds:HistoryCapacity", "0", "HistoryCapacity" },
        { "SensorHub:Feeds:SubscriberBufferCapacity", "-5", "SubscriberBufferCapacity" },
        { "SensorHub:Feeds:MaxBatchSize", "0", "MaxBatchSize" },
        { "SensorHub:Feeds:MaxTimestampSkew", "-01:00:00", "MaxTimestampSkew" },
        { "SensorHub:Hub:MaxStreamsPerConnection", "0", "MaxStreamsPerConnection" },
        { "SensorHub:Hub:MaximumReceiveMessageSize", "10", "MaximumReceiveMessageSize" },
        { "SensorHub:Simulation:Sensors:0:Id", "/not a sensor id", "Id" },
        { "SensorHub:Simulation:Sensors:0:RateHz", "0", "RateHz" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task BadSettingStopsTheStartWithAMessageThatNamesIt(string key, string value, string name)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => app.StartServer());

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsableSettingStopsTheStartWithAMessageThatNamesIt()
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?> { ["SensorHub:Feeds:HistoryCapacity"] = "lots" });

        var error = Assert.ThrowsAny<InvalidOperationException>(() => app.StartServer());

        Assert.Contains("HistoryCapacity", error.Message, StringComparison.Ordinal);
    }
}
