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
    public static async Task<int> RunAsync(
        SensorHubClient client, CommandLine line, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var sensorId = line.Argument(0, "sensorId");
        var count = line.LongOption("--count");
        var options = new SubscribeOptions { FromSequence = line.LongOption("--from"), MaxRate = line.DoubleOption("--max-rate") };
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
