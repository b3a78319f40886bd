using System.CommandLine;
using System.Runtime.CompilerServices;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>publish &lt;sensorId&gt;</c>: a generated sine wave, streamed as a device would, until Ctrl+C or <c>--count</c>.</summary>
internal static class PublishCommand
{
    private const double DefaultRate = 10;

    public static Command Create(ServerOptions server)
    {
        var sensorId = CheckedArguments.SensorId("sensorId", "The sensor to publish as.");
        // The bounds are PeriodicTimer's: it takes periods from 1 ms to about 49 days, and throws outside them.
        var rate = CheckedArguments.Number("--rate", 0.001, 1000, "Readings a second.", defaultValue: DefaultRate);
        var count = CheckedArguments.WholeNumber("--count", atLeast: 1, "Stop after this many readings (default: until Ctrl+C).");
        var command = new Command("publish", "Stream generated readings until Ctrl+C or --count, then print what the server accepted.") { sensorId, rate, count };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => RunAsync(
                client, result.GetRequiredValue(sensorId), result.GetValue(rate) ?? DefaultRate, result.GetValue(count), result.InvocationConfiguration.Output, ct),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        SensorHubClient client, string sensorId, double rate, long? count, TextWriter output, CancellationToken cancellationToken)
    {
        // Ctrl+C ends the generator normally, so that the server still answers with what it accepted.
        var result = await client.PublishAsync(GenerateAsync(sensorId, rate, count, cancellationToken), CancellationToken.None);
        await output.WriteLineAsync($"{result.Accepted} accepted, {result.Rejected} rejected");
        foreach (var rejection in result.Rejections)
            await output.WriteLineAsync($"  #{rejection.Index}: [{rejection.Code}] {rejection.Reason}");
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
