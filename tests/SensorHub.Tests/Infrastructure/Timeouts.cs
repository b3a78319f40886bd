namespace SensorHub.Tests.Infrastructure;

/// <summary>Bounds on every wait, so that a broken server fails a test instead of hanging the run.</summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a test waits for a generator to end after a cancel, a drop or a shutdown. Generous on purpose: the tests
    /// check that it ends (a leak never does); how fast is measured by the bench (cancel to <c>finally</c>), not here,
    /// since a loaded 2-core machine once took over a second.
    /// </summary>
    public static readonly TimeSpan GeneratorEnd = TimeSpan.FromSeconds(5);

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

    /// <summary>Polls an asynchronous <paramref name="condition"/> until it holds, or fails the test after <paramref name="within"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Not within {within.TotalSeconds:0.###} s: {what}");
            await Task.Delay(10);
        }
    }
}
