using System.Globalization;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// How long the hub fuzz runs and from which seed: <c>SENSORHUB_FUZZ_SECONDS</c> (each fuzz test runs that long
/// instead of its few seconds) and <c>SENSORHUB_FUZZ_SEED</c> (replays the rounds a failure printed).
/// </summary>
internal static class FuzzSettings
{
    public const string SecondsVariable = "SENSORHUB_FUZZ_SECONDS";
    public const string SeedVariable = "SENSORHUB_FUZZ_SEED";

    /// <summary>A bound on rounds whatever the time: the loop ends by itself even if a round took no time at all.</summary>
    public const int MaxRounds = 1_000_000;

    /// <summary>How long one fuzz test runs: <paramref name="defaultDuration"/> unless <see cref="SecondsVariable"/> says otherwise.</summary>
    public static TimeSpan Duration(TimeSpan defaultDuration) =>
        double.TryParse(Environment.GetEnvironmentVariable(SecondsVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : defaultDuration;

    /// <summary>The seed of this run: <see cref="SeedVariable"/>, else a new one (printed with every failure).</summary>
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();
}
