using System.CommandLine;
using System.Globalization;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample.Commands;

/// <summary>
/// <c>subscribe &lt;sensorId&gt;</c>: readings as they come, until Ctrl+C or <c>--count</c>. Leaving the loop, either way,
/// ends the server's generator: the SDK cancels the stream for us.
/// </summary>
internal static class SubscribeCommand
{
    public static Command Create(ServerOptions server)
    {
        var sensorId = CheckedArguments.SensorId("sensorId", "The sensor to follow.");
        var from = CheckedArguments.WholeNumber("--from", atLeast: 0, "Start at this sequence number, replaying what the server still holds (default: live only).");
        // The server's own range, checked before connecting.
        var maxRate = CheckedArguments.Number("--max-rate", SubscribeOptions.MaxRateMinimum, SubscribeOptions.MaxRateMaximum, "At most this many readings a second, each the newest (default: every reading).");
        var count = CheckedArguments.WholeNumber("--count", atLeast: 1, "Stop after this many readings (default: until Ctrl+C).");
        var command = new Command("subscribe", "Print a sensor's readings as they come, until Ctrl+C or --count.") { sensorId, from, maxRate, count };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => RunAsync(
                client,
                result.GetRequiredValue(sensorId),
                new SubscribeOptions { FromSequence = result.GetValue(from), MaxRate = result.GetValue(maxRate) },
                result.GetValue(count),
                result.InvocationConfiguration.Output,
                result.InvocationConfiguration.Error,
                ct),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        SensorHubClient client, string sensorId, SubscribeOptions options, long? count, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        long received = 0;
        await foreach (var reading in client.SubscribeAsync(sensorId, options, gap => Report(gap, errors), cancellationToken))
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture, $"{reading.Sequence}  {reading.Timestamp:O}  {reading.Value:0.######}"));
            if (++received == count)
                break;
        }
        return 0;
    }

    private static void Report(SequenceGap gap, TextWriter errors) =>
        errors.WriteLine($"-- gap: sequences {gap.FromSequence} to {gap.ToSequence} ({gap.Count}) will not come ({gap.Cause})");
}
