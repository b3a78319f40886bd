using Microsoft.Extensions.Logging.Abstractions;
using SensorHub.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Tests.Client;

/// <summary>
/// The SDK's positions for a <c>SubscribeMany</c> stream, without a server: per sensor the rules of a one-sensor
/// subscription, the caller's <c>fromSequences</c> merged with where each sensor stands, sensors listed before the
/// stream began resumed from where they stood, sensors that appeared while away from their first reading, and the bound.
/// </summary>
public sealed class SubscribeManyTrackerTests
{
    private static readonly SensorPattern Plant = SensorPattern.Parse("plant/+/t");

    private static Reading At(string sensorId, long sequence) => new() { SensorId = sensorId, Sequence = sequence, Timestamp = DateTime.UtcNow, Value = sequence };

    private static SensorInfo Info(string sensorId, long lastSequence) => new() { Id = sensorId, FirstSequence = 1, LastSequence = lastSequence };

    private static ManySequenceTracker Tracker(List<SequenceGap> gaps, SubscribeManyOptions? options = null, int capacity = SubscribeManyOptions.MaxFromSequences) =>
        new(Plant, options, gaps.Add, NullLogger.Instance, capacity);

    private static void List(ManySequenceTracker tracker, params SensorInfo[] sensors)
    {
        tracker.BeginListing();
        foreach (var sensor in sensors)
            tracker.Listed(sensor);
        tracker.EndListing(complete: true);
    }

    [Fact]
    public void TheCallersFromSequencesAreSentFirstThenEachSensorResumesFromItsLastDeliveredPlusOne()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps, new SubscribeManyOptions
        {
            FromSequences = new Dictionary<string, long> { ["plant/a/t"] = 10, ["plant/b/t"] = 20, ["elsewhere"] = 5 },
        });

        // An id the pattern does not match is left out: the server would ignore it.
        Assert.Equal(new Dictionary<string, long> { ["plant/a/t"] = 10, ["plant/b/t"] = 20 }, tracker.NextOptions()!.FromSequences);
        Assert.True(tracker.Accept(At("plant/a/t", 10), out _));
        Assert.True(tracker.Accept(At("plant/a/t", 11), out _));
        Assert.True(tracker.Accept(At("plant/c/t", 500), out _));

        // b delivered nothing: it still resumes from where the caller asked.
        var next = tracker.NextOptions()!;
        Assert.Null(next.MaxRate);
        Assert.Equal(new Dictionary<string, long> { ["plant/a/t"] = 12, ["plant/b/t"] = 20, ["plant/c/t"] = 501 }, next.FromSequences);
        Assert.Empty(gaps);
    }

    [Fact]
    public void DuplicatesAreDroppedAndJumpsReportedPerSensor()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps);
        tracker.NextOptions();
        Assert.True(tracker.Accept(At("plant/a/t", 1), out _));
        Assert.True(tracker.Accept(At("plant/b/t", 1), out _));
        Assert.True(tracker.Accept(At("plant/a/t", 2), out _));

        // A live jump of one sensor is a gap of that sensor only; the other goes on.
        Assert.True(tracker.Accept(At("plant/a/t", 6), out _));
        Assert.True(tracker.Accept(At("plant/b/t", 2), out _));

        // After a resume: what was delivered is dropped, per sensor.
        Assert.Equal(new Dictionary<string, long> { ["plant/a/t"] = 7, ["plant/b/t"] = 3 }, tracker.NextOptions()!.FromSequences);
        Assert.False(tracker.Accept(At("plant/a/t", 6), out _));
        Assert.False(tracker.Accept(At("plant/b/t", 2), out _));
        Assert.True(tracker.Accept(At("plant/b/t", 3), out var unclassified));
        Assert.Null(unclassified);

        var gap = Assert.Single(gaps);
        Assert.Equal(new SequenceGap("plant/a/t", 3, 5, SequenceGapCause.Dropped), gap);
    }

    [Fact]
    public void ASeamJumpIsHandedBackForClassificationAndAfterTheServerEndedTheStreamItIsARestart()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps);
        tracker.NextOptions();
        Assert.True(tracker.Accept(At("plant/a/t", 1), out _));
        Assert.True(tracker.Accept(At("plant/b/t", 1), out _));

        tracker.NextOptions();
        Assert.True(tracker.Accept(At("plant/a/t", 5), out var unclassified));
        Assert.Equal(new SequenceGap("plant/a/t", 2, 4, SequenceGapCause.HistoryExpired), unclassified);

        tracker.ServerMayHaveRestarted();
        tracker.NextOptions();
        Assert.True(tracker.Accept(At("plant/b/t", 9_000), out unclassified));
        Assert.Null(unclassified);
        Assert.Equal([new SequenceGap("plant/b/t", 2, 8_999, SequenceGapCause.ServerRestart)], gaps);
    }

    [Fact]
    public void ASensorListedBeforeTheStreamStartsLiveThenResumesFromWhereItStoodAndANewOneFromItsFirstReading()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps);
        List(tracker, Info("plant/quiet/t", 40), Info("plant/busy/t", 7), Info("plant/none/t", 0), Info("plant/a/other", 3));

        // Listed sensors start live on the first attempt, as any sensor the caller did not name.
        Assert.Null(tracker.NextOptions());
        Assert.True(tracker.KnowsEverySensor);
        Assert.True(tracker.Accept(At("plant/busy/t", 8), out _));

        // A drop; a sensor appeared meanwhile.
        List(tracker, Info("plant/quiet/t", 45), Info("plant/busy/t", 9), Info("plant/none/t", 0), Info("plant/new/t", 3));

        Assert.Equal(
            new Dictionary<string, long> { ["plant/quiet/t"] = 41, ["plant/busy/t"] = 9, ["plant/none/t"] = 0, ["plant/new/t"] = 0 },
            tracker.NextOptions()!.FromSequences);
        Assert.Equal(4, tracker.Count);
    }

    [Fact]
    public void APacedStreamListsNothingAndResumesLive()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps, new SubscribeManyOptions { MaxRate = 2, FromSequences = new Dictionary<string, long> { ["plant/a/t"] = 10 } });

        Assert.False(tracker.WantsListing);
        var first = tracker.NextOptions()!;
        Assert.Equal(2, first.MaxRate);
        Assert.Equal(new Dictionary<string, long> { ["plant/a/t"] = 10 }, first.FromSequences);
        Assert.True(tracker.Accept(At("plant/a/t", 10), out _));
        Assert.True(tracker.Accept(At("plant/a/t", 50), out _));

        var next = tracker.NextOptions()!;
        Assert.Equal(2, next.MaxRate);
        Assert.Null(next.FromSequences);
        Assert.Empty(gaps);
    }

    [Fact]
    public void PastItsCapacityItForgetsTheSensorsThatDeliveredLeastRecentlyAndStopsTakingUnknownOnesForNew()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps, capacity: 10);
        List(tracker);
        tracker.NextOptions();
        Assert.True(tracker.KnowsEverySensor);
        for (var i = 0; i < 10; i++)
            Assert.True(tracker.Accept(At($"plant/{i}/t", 100), out _));
        Assert.True(tracker.Accept(At("plant/0/t", 101), out _));

        Assert.True(tracker.Accept(At("plant/10/t", 100), out _));

        // 11 sensors over a capacity of 10: down to nine, the least recently delivered first (1 and 2; 0 delivered again since).
        Assert.Equal(9, tracker.Count);
        Assert.False(tracker.KnowsEverySensor);
        var next = tracker.NextOptions()!.FromSequences!;
        Assert.Equal(9, next.Count);
        Assert.DoesNotContain("plant/1/t", next.Keys);
        Assert.DoesNotContain("plant/2/t", next.Keys);
        Assert.Equal(102, next["plant/0/t"]);

        // Not knowing every sensor, a listing takes an unknown one as old: live this time, from where it stood after.
        tracker.BeginListing();
        tracker.Listed(Info("plant/1/t", 150));
        tracker.EndListing(complete: true);
        Assert.DoesNotContain("plant/1/t", tracker.NextOptions()!.FromSequences!.Keys);
        Assert.Equal(151, tracker.NextOptions()!.FromSequences!["plant/1/t"]);
    }

    [Fact]
    public void AListingThatFailsLeavesUnknownSensorsLiveAtTheNextResume()
    {
        var gaps = new List<SequenceGap>();
        var tracker = Tracker(gaps);
        tracker.BeginListing();
        tracker.EndListing(complete: false);
        tracker.NextOptions();

        List(tracker, Info("plant/old/t", 5));

        // Not a new sensor for sure: it may have been there all along, so no replay of its history.
        Assert.Null(tracker.NextOptions());
        Assert.Equal(6, tracker.NextOptions()!.FromSequences!["plant/old/t"]);
    }

    [Theory]
    [InlineData("a/#/b", "'#' before its last level")]
    [InlineData("line+", "wildcard inside the level")]
    [InlineData("/a", "starts with '/'")]
    [InlineData("", "is empty")]
    public async Task AMalformedPatternThrowsAtTheCallBeforeAnythingIsSent(string pattern, string problem)
    {
        // Never started, and nothing listens on its address: any attempt to send would fail otherwise.
        await using var client = new SensorHubClient(new SensorHubClientOptions { Url = new Uri("http://127.0.0.1:9") });

        var error = Assert.Throws<ArgumentException>(() => client.SubscribeManyAsync(pattern));

        Assert.Equal("pattern", error.ParamName);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{pattern}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooManyFromSequencesOrANegativeOneThrowAtTheCall()
    {
        await using var client = new SensorHubClient(new SensorHubClientOptions { Url = new Uri("http://127.0.0.1:9") });
        var many = Enumerable.Range(0, SubscribeManyOptions.MaxFromSequences + 1).ToDictionary(i => $"s/{i}", _ => 1L);

        var tooMany = Assert.Throws<ArgumentException>(() => client.SubscribeManyAsync("s/+", new SubscribeManyOptions { FromSequences = many }));
        var negative = Assert.Throws<ArgumentException>(() =>
            client.SubscribeManyAsync("s/+", new SubscribeManyOptions { FromSequences = new Dictionary<string, long> { ["s/1"] = -1 } }));

        Assert.Contains("10001 entries", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("-1", negative.Message, StringComparison.Ordinal);
    }
}
