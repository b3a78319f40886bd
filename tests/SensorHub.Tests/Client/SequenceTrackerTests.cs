using SensorHub.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Tests.Client;

public sealed class SequenceTrackerTests
{
    private static Reading At(long sequence) => new() { SensorId = "s", Sequence = sequence, Timestamp = DateTime.UtcNow, Value = sequence };

    [Fact]
    public void AnUnpacedSubscriptionResumesFromTheLastDeliveredPlusOne()
    {
        var tracker = new SequenceTracker("s", new SubscribeOptions { FromSequence = 10 }, _ => { });
        Assert.Equal(10, tracker.NextOptions()!.FromSequence);
        Assert.True(tracker.Accept(At(10)));
        Assert.True(tracker.Accept(At(11)));

        Assert.Equal(new SubscribeOptions { FromSequence = 12 }, tracker.NextOptions());
    }

    [Fact]
    public void APacedSubscriptionResumesLiveSinceAReplayOfWhatItSkippedWouldArriveUnpaced()
    {
        var gaps = new List<SequenceGap>();
        var tracker = new SequenceTracker("s", new SubscribeOptions { FromSequence = 10, MaxRate = 2 }, gaps.Add);
        Assert.Equal(new SubscribeOptions { FromSequence = 10, MaxRate = 2 }, tracker.NextOptions());
        Assert.True(tracker.Accept(At(10)));
        Assert.True(tracker.Accept(At(50)));

        Assert.Equal(new SubscribeOptions { FromSequence = null, MaxRate = 2 }, tracker.NextOptions());
        // Its jumps are on purpose: the next reading, however far on, is neither a gap nor held back.
        Assert.True(tracker.Accept(At(900)));
        Assert.Empty(gaps);
        Assert.Null(tracker.TakeUnclassifiedGap());
    }
}
