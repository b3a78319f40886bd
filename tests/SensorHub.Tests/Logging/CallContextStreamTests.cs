using Microsoft.Extensions.Logging;
using SensorHub.Server.Hubs;

namespace SensorHub.Tests.Logging;

/// <summary>
/// A server-to-client stream run in its call's context (<see cref="CallContextStream{T}"/>): each step sees the call's
/// log scope, and stepping allocates nothing per item.
/// </summary>
public sealed class CallContextStreamTests
{
    [Fact]
    public async Task EachStepRunsInTheCapturedContext()
    {
        var scopes = new LoggerExternalScopeProvider();
        ExecutionContext captured;
        using (scopes.Push("the call"))
            captured = ExecutionContext.Capture()!;
        var seen = new List<string?>();
        var stream = new CallContextStream<int>(Items(3, () => seen.Add(CurrentScope(scopes))), captured);

        await foreach (var _ in stream)
        {
        }

        // Three steps that yield, the last that ends, and the generator's finally at disposal: all in the call's scope.
        Assert.Equal(["the call", "the call", "the call", "the call", "the call"], seen);
        Assert.Null(CurrentScope(scopes));
    }

    [Fact]
    public async Task SteppingAllocatesNothingPerItem()
    {
        const int Items = 10_000;
        using var scope = new LoggerExternalScopeProvider().Push("the call");
        var stream = new CallContextStream<int>(new Counting(Items), ExecutionContext.Capture()!);
        await using var enumerator = stream.GetAsyncEnumerator();
        // The first step warms up whatever is made once.
        Assert.True(await enumerator.MoveNextAsync());

        var before = GC.GetAllocatedBytesForCurrentThread();
        var steps = 0;
        while (await enumerator.MoveNextAsync())
            steps++;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Items - 1, steps);
        Assert.Equal(0, allocated);
    }

    private static string? CurrentScope(LoggerExternalScopeProvider scopes)
    {
        string? current = null;
        scopes.ForEachScope((state, _) => current = state as string, (object?)null);
        return current;
    }

    private static async IAsyncEnumerable<int> Items(int count, Action step)
    {
        try
        {
            for (var i = 0; i < count; i++)
            {
                step();
                await Task.Yield();
                yield return i;
            }
            step();
        }
        finally
        {
            step();
        }
    }

    /// <summary>A stream whose steps complete at once without allocating, so that only the wrapper's cost is counted.</summary>
    private sealed class Counting(int count) : IAsyncEnumerable<int>, IAsyncEnumerator<int>
    {
        public int Current { get; private set; }

        public IAsyncEnumerator<int> GetAsyncEnumerator(CancellationToken cancellationToken = default) => this;

        public ValueTask<bool> MoveNextAsync() => new(++Current <= count);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
