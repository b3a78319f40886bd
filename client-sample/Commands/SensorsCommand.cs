using System.CommandLine;
using System.Globalization;
using SensorHub.Client;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>sensors</c>: every sensor with its newest reading.</summary>
internal static class SensorsCommand
{
    public static Command Create(ServerOptions server)
    {
        var command = new Command("sensors", "List the sensors, each with its newest reading.");
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result, (client, ct) => RunAsync(client, result.InvocationConfiguration.Output, ct), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(SensorHubClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var sensors = await client.ListSensorsAsync(cancellationToken);
        await output.WriteLineAsync($"{"id",-40} {"kind",-12} {"last value",14} {"unit",-6} last sequence");
        foreach (var sensor in sensors)
        {
            var value = sensor.LastValue?.ToString("0.###", CultureInfo.InvariantCulture) ?? "-";
            await output.WriteLineAsync($"{sensor.Id,-40} {sensor.Kind,-12} {value,14} {sensor.Unit ?? "",-6} {sensor.LastSequence}");
        }
        return 0;
    }
}
