using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Mqtt;

/// <summary>Bad MQTT settings stop the start with a message that names the setting; none at all leave the ingest off.</summary>
public sealed class MqttOptionsTests : IDisposable
{
    private readonly BareHost _host = new();

    public void Dispose() => _host.Dispose();

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "SensorHub:Mqtt:Host", "", "Host" },
        { "SensorHub:Mqtt:Port", "0", "Port" },
        { "SensorHub:Mqtt:Port", "70000", "Port" },
        { "SensorHub:Mqtt:Topics:1", "sensors/#/x", "Topics[1] 'sensors/#/x' has '#' before its last level" },
        { "SensorHub:Mqtt:Topics:1", "sensors/line+", "Topics[1] 'sensors/line+' has a wildcard inside the level 'line+'" },
        { "SensorHub:Mqtt:Topics:1", "$share/g/sensors/#", "Topics[1]" },
        { "SensorHub:Mqtt:Topics:1", "", "Topics[1]" },
        { "SensorHub:Mqtt:ClientId", "", "ClientId" },
        { "SensorHub:Mqtt:SharedSubscriptionGroup", "a/b", "SharedSubscriptionGroup" },
        { "SensorHub:Mqtt:SharedSubscriptionGroup", "g+", "SharedSubscriptionGroup" },
        { "SensorHub:Mqtt:SessionExpiry", "00:00:00", "SessionExpiry" },
        { "SensorHub:Mqtt:ReconnectMinDelay", "00:00:00", "ReconnectMinDelay" },
        { "SensorHub:Mqtt:ReconnectMaxDelay", "00:00:00.100", "ReconnectMaxDelay must not be shorter than ReconnectMinDelay" },
        { "SensorHub:Mqtt:Password", "secret", "Password needs a Username" },
        { "SensorHub:Mqtt:CaCertificatePath", "/nonexistent/ca.pem", "CaCertificatePath" },
        { "SensorHub:Mqtt:ValueField", "", "ValueField" },
        { "SensorHub:Mqtt:TimestampField", "value", "ValueField and TimestampField must differ" },
        { "SensorHub:Mqtt:InvalidMessageLogInterval", "-00:00:01", "InvalidMessageLogInterval" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task BadSettingStopsTheStartWithAMessageThatNamesIt(string key, string value, string name)
    {
        await using var app = Build(new Dictionary<string, string?>
        {
            ["SensorHub:Mqtt:Host"] = "127.0.0.1",
            ["SensorHub:Mqtt:Topics:0"] = "sensors/#",
            [key] = value,
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TopicsWithoutAHostStopTheStart()
    {
        await using var app = Build(new Dictionary<string, string?> { ["SensorHub:Mqtt:Topics:0"] = "sensors/#" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Host is required when Topics are set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTopicsOtherMqttSettingsAreNotRequired()
    {
        await using var app = Build(new Dictionary<string, string?> { ["SensorHub:Mqtt:Port"] = "1883" });

        await app.StartAsync();
        await app.StopAsync();
    }

    private WebApplication Build(Dictionary<string, string?> settings)
    {
        settings["SensorHub:Simulation:Enabled"] = "false";
        return _host.Build(settings);
    }
}
