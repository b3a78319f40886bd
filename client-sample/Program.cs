namespace SensorHub.ClientSample;

/// <summary>The <c>sensorhub</c> console program (named, not top-level, so that it does not meet the server's Program in the tests).</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Ctrl+C cancels the running command, which ends its stream on the server too, then the program exits.
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        return await SampleApp.RunAsync(args, Console.Out, Console.Error, stop.Token);
    }
}
