using System.Text.Json;
using SensorHub.Contracts;
using SensorHub.Server.Hubs;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Logging;

/// <summary>
/// The standard settings <c>Logging:Console:FormatterName=json</c> and
/// <c>Logging:Console:FormatterOptions:IncludeScopes=true</c> turn the built server's console log into one JSON
/// object per line, with a hub call's fields among its scopes.
/// </summary>
public sealed class JsonConsoleLogTests
{
    private const int Refused = 2003;

    [Fact]
    public async Task TheServerWritesJsonLinesWithTheCallsFields()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Logging:Console:FormatterName"] = "json",
            ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
            // The refusal below is logged at Debug.
            ["Logging:LogLevel:SensorHub.Server.Hubs"] = "Debug",
        });
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var client = await RawHubClient.ConnectOverTcpAsync(server.HubUri, receiveBufferSize: null, cts.Token);
        await client.HandshakeAsync(Protocol.Json, cts.Token);
        var unknown = Sensors.NewId();

        // A stream refused while it runs (an unknown sensor is found on its first step) logs the refusal.
        await client.SubscribeAsync("json-log-1", unknown, null, cts.Token);
        JsonElement? refusal = null;
        await Timeouts.WaitUntilAsync(() => (refusal = Entries(server.Output).Where(e => e.GetProperty("EventId").GetInt32() == Refused).Select(e => (JsonElement?)e).FirstOrDefault()) is not null,
            Timeouts.Default, "the refusal's JSON line");

        var entry = refusal!.Value;
        Assert.Equal("Debug", entry.GetProperty("LogLevel").GetString());
        // The JSON console formatter writes the event id, not its name (an OpenTelemetry log exporter sends both).
        Assert.Equal(SensorHubErrors.UnknownSensor, entry.GetProperty("State").GetProperty("Code").GetString());
        var call = Assert.Single(entry.GetProperty("Scopes").EnumerateArray(), s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty(InvocationLogScope.ConnectionIdField, out _));
        Assert.Equal(entry.GetProperty("State").GetProperty("ConnectionId").GetString(), call.GetProperty(InvocationLogScope.ConnectionIdField).GetString());
        Assert.Equal("json-log-1", call.GetProperty(InvocationLogScope.InvocationIdField).GetString());
        Assert.Equal(SensorHubMethods.Subscribe, call.GetProperty(InvocationLogScope.MethodField).GetString());
        Assert.Equal(unknown, call.GetProperty(InvocationLogScope.SensorIdField).GetString());
    }

    /// <summary>The lines that are JSON objects (the console writes nothing else under this formatter, but the process's standard error may).</summary>
    private static List<JsonElement> Entries(string output)
    {
        var entries = new List<JsonElement>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith('{'))
                continue;
            try
            {
                entries.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
            catch (JsonException)
            {
                // A line cut by the read in progress: it is read whole at the next look.
            }
        }
        return entries;
    }
}
