using System.CommandLine;
using System.Globalization;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample.Commands;

/// <summary>
/// <c>subscribe-many &lt;pattern&gt;</c>: the readings of every sensor an MQTT-style pattern matches, one a line with its
/// sensor id, as they come, until Ctrl+C or <c>--count</c>. The SDK resumes each sensor after a drop and reports its
/// gaps; leaving the loop ends the server's stream.
/// </summary>
internal static class SubscribeManyCommand
{
    public static Command Create(ServerOptions server)
    {
        var pattern = CheckedArguments.Pattern("pattern", "The sensors: MQTT wildcards over the '/' levels of ids, such as plant-1/+/temperature or plant-1/# ('#' alone: every sensor).");
        // The server's own range (per sensor), checked before connecting.
        var maxRate = CheckedArguments.Number("--max-rate", SubscribeOptions.MaxRateMinimum, SubscribeOptions.MaxRateMaximum, "At most this many readings a second per sensor, each the newest (default: every reading).");
        var count = CheckedArguments.WholeNumber("--count", atLeast: 1, "Stop after this many readings, of all sensors together (default: until Ctrl+C).");
        var command = new Command("subscribe-many", "Print the readings of every sensor a pattern matches, sensors that appear later included, until Ctrl+C or --count.")
        {
            pattern, maxRate, count,
        };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => RunAsync(
                client,
                result.GetRequiredValue(pattern),
                result.GetValue(maxRate) is { } rate ? new SubscribeManyOptions { MaxRate = rate } : null,
                result.GetValue(count),
                result.InvocationConfiguration.Output,
                result.InvocationConfiguration.Error,
                ct),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        SensorHubClient client, string pattern, SubscribeManyOptions? options, long? count, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        long received = 0;
        await foreach (var batch in client.SubscribeManyAsync(pattern, options, gap => Report(gap, errors), cancellationToken))
        {
            foreach (var reading in batch)
            {
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture, $"{reading.SensorId}  {reading.Sequence}  {reading.Timestamp:O}  {reading.Value:0.######}"));
                if (++received == count)
                    return 0;
            }
        }
        return 0;
    }

    private static void Report(SequenceGap gap, TextWriter errors) =>
        errors.WriteLine($"-- gap: {gap.SensorId} sequences {gap.FromSequence} to {gap.ToSequence} ({gap.Count}) will not come ({gap.Cause})");
}
