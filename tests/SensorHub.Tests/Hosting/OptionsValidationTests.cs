using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hosting;

/// <summary>Bad settings stop the start with a message that names them (on a <see cref="BareHost"/>).</summary>
public sealed class OptionsValidationTests : IDisposable
{
    private readonly BareHost _host = new();

    public void Dispose() => _host.Dispose();

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "SensorHub:Feeds:HistoryCapacity", "0", "HistoryCapacity" },
        { "SensorHub:Feeds:SubscriberBufferCapacity", "-5", "SubscriberBufferCapacity" },
        { "SensorHub:Feeds:MaxBatchSize", "0", "MaxBatchSize" },
        { "SensorHub:Feeds:MaxTimestampSkew", "-01:00:00", "MaxTimestampSkew" },
        { "SensorHub:Hub:MaxStreamsPerConnection", "0", "MaxStreamsPerConnection" },
        { "SensorHub:Hub:MaximumReceiveMessageSize", "10", "MaximumReceiveMessageSize" },
        { "SensorHub:Hub:MaximumReceiveMessageSize", "1000000", "MaximumReceiveMessageSize (1000000) is too small for an upload chunk of MaxChunkBytes" },
        { "SensorHub:Hub:TransportSendTimeout", "00:00:00", "TransportSendTimeout" },
        { "SensorHub:Hub:TransportSendTimeout", "01:00:00", "TransportSendTimeout" },
        { "SensorHub:Hub:ShutdownDrainTimeout", "-00:00:01", "ShutdownDrainTimeout" },
        { "SensorHub:Hub:ShutdownDrainTimeout", "00:02:00", "ShutdownDrainTimeout" },
        { "SensorHub:Hub:ShutdownDrainTimeout", "00:00:30", "ShutdownDrainTimeout (00:00:30) must be shorter than the host's ShutdownTimeout (00:00:30)" },
        { "SensorHub:Uploads:MaxChunkBytes", "0", "MaxChunkBytes" },
        { "SensorHub:Uploads:StaleAfter", "00:00:00", "StaleAfter" },
        { "SensorHub:Uploads:DataPath", "", "DataPath" },
        { "SensorHub:Simulation:Sensors:0:Id", "/not a sensor id", "Id" },
        { "SensorHub:Simulation:Sensors:0:RateHz", "0", "RateHz" },
        { "SensorHub:Feeds:MaxSensors", "0", "MaxSensors" },
        { "SensorHub:Feeds:MaxSensorsPerPublisher", "0", "MaxSensorsPerPublisher" },
        { "SensorHub:Feeds:SensorIdleTimeout", "-00:00:01", "SensorIdleTimeout" },
        { "SensorHub:Feeds:IdleSweepInterval", "00:00:00", "IdleSweepInterval" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task BadSettingStopsTheStartWithAMessageThatNamesIt(string key, string value, string name)
    {
        await using var app = Build(key, value);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsableSettingStopsTheStartWithAMessageThatNamesIt()
    {
        await using var app = Build("SensorHub:Feeds:HistoryCapacity", "lots");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("HistoryCapacity", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultSettingsStart()
    {
        await using var app = Build("SensorHub:Simulation:Enabled", "false");

        await app.StartAsync();
        await app.StopAsync();
    }

    private WebApplication Build(string key, string value) => _host.Build([new(key, value)]);
}
