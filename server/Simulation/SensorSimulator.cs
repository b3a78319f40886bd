using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Simulation;

/// <summary>
/// Runs the simulated sensors. Each is an async generator of <see cref="ReadingInput"/>s handed to
/// <see cref="ReadingIngest"/>, the same path a device's <c>Publish</c> stream takes.
/// </summary>
internal sealed class SensorSimulator(
    IFeedEngine engine,
    ReadingIngest ingest,
    IOptions<SimulationOptions> options,
    TimeProvider time,
    ILogger<SensorSimulator> logger) : BackgroundService
{
    /// <summary>
    /// Fast sensors are stepped at this interval and publish every reading that fell due since the last step, each
    /// with its own interpolated timestamp: timers cannot fire a thousand times a second, nor need to.
    /// </summary>
    private static readonly TimeSpan s_minStep = TimeSpan.FromMilliseconds(10);

    /// <summary>The server's own sensors need no token.</summary>

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            SimulationLog.Disabled(logger);
            return;
        }

        try
        {
            // On Redis the engine refuses while Redis is unavailable (backend_unavailable): the simulation waits and
            // goes on once it answers, rather than end (and, as a failed background service, stop the node).
            foreach (var sensor in settings.Sensors)
            {
                await WhileUnavailableAsync(
                    () => engine.RegisterAsync(new SensorDescriptor(sensor.Id, sensor.Name ?? sensor.Id, sensor.Kind, sensor.Unit), stoppingToken).AsTask(),
                    stoppingToken);
            }
            SimulationLog.Started(logger, settings.Sensors.Count);
            await Task.WhenAll(settings.Sensors.Select(sensor => WhileUnavailableAsync(() => RunAsync(sensor, stoppingToken), stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(SimulatedSensorOptions sensor, CancellationToken cancellationToken)
    {
        var result = await ingest.PublishAsync(GenerateAsync(sensor, cancellationToken), Publisher.Server, cancellationToken);
        if (result.Rejected > 0)
            SimulationLog.Rejected(logger, sensor.Id, result.Rejected, result.Rejections.FirstOrDefault()?.Reason ?? "");
    }

    /// <summary>Runs <paramref name="step"/> again a second after each <c>backend_unavailable</c>, until it ends otherwise.</summary>
    private async Task WhileUnavailableAsync(Func<Task> step, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await step();
                return;
            }
            catch (SensorHubException e) when (e.Code == SensorHubErrors.BackendUnavailable && !cancellationToken.IsCancellationRequested)
            {
                SimulationLog.BackendUnavailable(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            }
        }
    }

    private async IAsyncEnumerable<ReadingInput> GenerateAsync(
        SimulatedSensorOptions sensor,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromSeconds(1 / sensor.RateHz);
        if (step < s_minStep)
            step = s_minStep;
        var random = new Random();
        var start = time.GetUtcNow().UtcDateTime;
        var started = time.GetTimestamp();
        long emitted = 0;

        using var timer = new PeriodicTimer(step, time);
        do
        {
            var due = (long)(time.GetElapsedTime(started).TotalSeconds * sensor.RateHz) + 1;
            for (; emitted < due; emitted++)
            {
                var seconds = emitted / sensor.RateHz;
                yield return new ReadingInput
                {
                    SensorId = sensor.Id,
                    Value = Sample(sensor, seconds, random),
                    Timestamp = start.AddTicks((long)(seconds * TimeSpan.TicksPerSecond)),
                };
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    private static double Sample(SimulatedSensorOptions sensor, double seconds, Random random)
    {
        var wave = sensor.Amplitude * Math.Sin(2 * Math.PI * seconds / sensor.PeriodSeconds);
        return sensor.Baseline + wave + sensor.Noise * Gaussian(random);
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
