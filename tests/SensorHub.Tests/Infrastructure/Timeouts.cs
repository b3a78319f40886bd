namespace SensorHub.Tests.Infrastructure;

/// <summary>Bounds on every wait, so that a broken server fails a test instead of hanging the run.</summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    /// <summary>What the contract promises for a generator to end after a cancel, a drop or a shutdown.</summary>
    public static readonly TimeSpan GeneratorEnd = TimeSpan.FromSeconds(1);

    /// <summary>Polls <paramref name="condition"/> until it holds, or fails the test after <paramref name="within"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Not within {within.TotalSeconds:0.###} s: {what}");
            await Task.Delay(5);
        }
    }
}
