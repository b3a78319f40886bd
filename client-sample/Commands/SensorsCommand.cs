using System.CommandLine;
using System.Globalization;
using SensorHub.Client;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>sensors [--prefix P]</c>: every sensor (or those whose id starts with P) with its newest reading.</summary>
internal static class SensorsCommand
{
    public static Command Create(ServerOptions server)
    {
        // A prefix is compared with ids, so it follows their rule; the SDK pages through the server's answer.
        var prefix = CheckedArguments.SensorIdOption("--prefix", "Only sensors whose id starts with this, such as plant-1/line-2/.");
        var command = new Command("sensors", "List the sensors, each with its newest reading.") { prefix };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result, (client, ct) => RunAsync(client, result.GetValue(prefix) ?? "", result.InvocationConfiguration.Output, ct), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(SensorHubClient client, string prefix, TextWriter output, CancellationToken cancellationToken)
    {
        var sensors = await client.ListSensorsAsync(prefix, cancellationToken);
        await output.WriteLineAsync($"{"id",-40} {"kind",-12} {"last value",14} {"unit",-6} last sequence");
        foreach (var sensor in sensors)
        {
            var value = sensor.LastValue?.ToString("0.###", CultureInfo.InvariantCulture) ?? "-";
            await output.WriteLineAsync($"{sensor.Id,-40} {sensor.Kind,-12} {value,14} {sensor.Unit ?? "",-6} {sensor.LastSequence}");
        }
        return 0;
    }
}
