using System.Runtime.CompilerServices;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>publish &lt;sensorId&gt;</c>: a generated sine wave, streamed as a device would, until Ctrl+C or <c>--count</c>.</summary>
internal static class PublishCommand
{
    public static async Task<int> RunAsync(SensorHubClient client, CommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var sensorId = line.Argument(0, "sensorId");
        var rate = line.DoubleOption("--rate") ?? 10;
        if (rate <= 0)
            throw new UsageException("--rate takes a positive number of readings per second.");
        var count = line.LongOption("--count");

        // Ctrl+C ends the generator normally, so that the server still answers with what it accepted.
        var result = await client.PublishAsync(GenerateAsync(sensorId, rate, count, cancellationToken), CancellationToken.None);
        await output.WriteLineAsync($"{result.Accepted} accepted, {result.Rejected} rejected");
        foreach (var rejection in result.Rejections)
            await output.WriteLineAsync($"  #{rejection.Index}: {rejection.Reason}");
        return result.Rejected == 0 ? 0 : 1;
    }

    private static async IAsyncEnumerable<ReadingInput> GenerateAsync(
        string sensorId, double rate, long? count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / rate));
        for (long i = 0; i != count; i++)
        {
            yield return new ReadingInput { SensorId = sensorId, Value = Math.Sin(i / rate), Timestamp = DateTime.UtcNow };
            try
            {
                await timer.WaitForNextTickAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }
}
