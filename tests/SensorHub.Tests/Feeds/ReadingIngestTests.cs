using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Tests.Feeds;

/// <summary>
/// <see cref="ReadingIngest"/> on its own: the code of each rejection, its count in the refusals, the echoed id's bound,
/// the publisher's rates (with limiters made here, as the hub makes them per connection) and the sensor caps.
/// </summary>
public sealed class ReadingIngestTests : IDisposable
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(s_now);
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in _owned)
            owned.Dispose();
    }

    [Fact]
    public async Task EachRejectionCarriesItsCodeAndIsCountedByIt()
    {
        var harness = Harness(new FeedOptions { MaxSensorsPerPublisher = 1 });
        var publisher = new Publisher("alice", id => id.StartsWith("mine/", StringComparison.Ordinal));

        var result = await harness.Ingest.PublishAsync(Items(
            new ReadingInput { SensorId = "mine/1", Value = 1 },
            null,
            new ReadingInput { SensorId = "mine/bad id", Value = 2 },
            new ReadingInput { SensorId = "mine/1", Value = double.NaN },
            new ReadingInput { SensorId = "theirs/1", Value = 3 },
            new ReadingInput { SensorId = "mine/2", Value = 4 },
            new ReadingInput { SensorId = "mine/1", Value = 5 }), publisher, CancellationToken.None);

        Assert.Equal((2, 5), (result.Accepted, result.Rejected));
        (long Index, string Code, string Reason)[] expected =
        [
            (1, SensorHubErrors.InvalidArgument, "the item is null"),
            (2, SensorHubErrors.InvalidArgument, "sensorId contains U+0020"),
            (3, SensorHubErrors.InvalidArgument, "value is NaN"),
            (4, SensorHubErrors.NotAllowed, "not allowed to publish to sensor 'theirs/1'"),
            (5, SensorHubErrors.TooManySensors, "sensor 'mine/2' is new, and you have registered 1 sensors, the most one publisher may"),
        ];
        Assert.Equal(expected.Select(e => (e.Index, e.Code)), result.Rejections.Select(r => (r.Index, r.Code)));
        foreach (var (rejection, (_, _, reason)) in result.Rejections.Zip(expected))
            Assert.StartsWith(reason, rejection.Reason, StringComparison.Ordinal);
        var counts = harness.Refusals.Snapshot();
        Assert.Equal((3L, 1L, 1L, 0L), (counts[SensorHubErrors.InvalidArgument], counts[SensorHubErrors.NotAllowed], counts[SensorHubErrors.TooManySensors], counts[SensorHubErrors.RateLimited]));
    }

    [Fact]
    public async Task TheServersTotalCapRejectsANewSensorAloneWithItsOwnWords()
    {
        var harness = Harness(new FeedOptions { MaxSensors = 1 });
        await harness.Engine.RegisterAsync(new SensorDescriptor("own", "own", "simulated", null), CancellationToken.None);

        var result = await harness.Ingest.PublishAsync(
            Items(new ReadingInput { SensorId = "d/1", Value = 1 }, new ReadingInput { SensorId = "own", Value = 2 }), new Publisher("alice", _ => true), CancellationToken.None);

        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1, 0L, SensorHubErrors.TooManySensors), (result.Accepted, rejection.Index, rejection.Code));
        Assert.Equal("sensor 'd/1' is new, and the server already holds its most sensors (1)", rejection.Reason);
    }

    [Fact]
    public async Task AHugeSensorIdIsEchoedCutToItsBoundAndNeverWhole()
    {
        var harness = Harness();
        var huge = new string('x', 1_000_000);

        var result = await harness.Ingest.PublishAsync(
            Items(new ReadingInput { SensorId = huge, Value = 1 }, new ReadingInput { SensorId = new string('y', 129), Value = 1 }, new ReadingInput { SensorId = "ok/../x y", Value = 1 }),
            Publisher.Server, CancellationToken.None);

        Assert.Equal(new string('x', SensorId.MaxLength) + "…", result.Rejections[0].SensorId);
        Assert.Equal(new string('y', SensorId.MaxLength) + "…", result.Rejections[1].SensorId);
        // What is within the bound comes back as it was sent.
        Assert.Equal("ok/../x y", result.Rejections[2].SensorId);
        Assert.Equal("sensorId is 1000000 characters long; at most 128 are allowed", result.Rejections[0].Reason);
        Assert.All(result.Rejections, r => Assert.InRange(r.Reason.Length, 1, 200));
    }

    [Fact]
    public async Task ReadingsOverThePublishersRateAreRejectedAloneAndSayHowLongToWait()
    {
        var harness = Harness();
        var readings = Limiter(tokens: 3);
        var publisher = new Publisher("alice", _ => true, readings: readings);

        var first = await harness.Ingest.PublishAsync(Items(Enumerable.Range(0, 5).Select(i => new ReadingInput { SensorId = "d/1", Value = i }).ToArray()), publisher, CancellationToken.None);

        Assert.Equal((3, 2), (first.Accepted, first.Rejected));
        Assert.Equal([3L, 4], first.Rejections.Select(r => r.Index));
        Assert.All(first.Rejections, r =>
        {
            Assert.Equal(SensorHubErrors.RateLimited, r.Code);
            Assert.StartsWith("this connection publishes more readings a second than it may; retry after ", r.Reason, StringComparison.Ordinal);
            // The wait the limiter named, in the words every rate_limited text ends with.
            Assert.Equal(TimeSpan.FromMinutes(1), SensorHubErrors.RetryAfterOf(r.Reason));
            Assert.EndsWith(SensorHubErrors.RetryAfterText(TimeSpan.FromMinutes(1)), r.Reason, StringComparison.Ordinal);
        });
        Assert.Equal([0.0, 1, 2], (await harness.History.ReadAsync("d/1", 0, 10, CancellationToken.None)).Select(r => r.Value));
        Assert.Equal(2, harness.Refusals.Snapshot()[SensorHubErrors.RateLimited]);
    }

    [Fact]
    public async Task ABadOrForbiddenItemTakesNoReadingPermit()
    {
        var harness = Harness();
        var publisher = new Publisher("alice", id => id != "forbidden", readings: Limiter(tokens: 1));

        var result = await harness.Ingest.PublishAsync(
            Items(new ReadingInput { SensorId = "bad id", Value = 1 }, new ReadingInput { SensorId = "forbidden", Value = 1 }, new ReadingInput { SensorId = "d/1", Value = 1 }),
            publisher, CancellationToken.None);

        Assert.Equal(1, result.Accepted);
        Assert.Equal([SensorHubErrors.InvalidArgument, SensorHubErrors.NotAllowed], result.Rejections.Select(r => r.Code));
    }

    [Fact]
    public async Task OnlyAnItemThatCreatesASensorTakesANewSensorPermit()
    {
        var harness = Harness();
        var newSensors = Limiter(tokens: 1);
        var publisher = new Publisher("alice", _ => true, newSensors: newSensors);
        await harness.Engine.PublishAsync("known", 1);

        var result = await harness.Ingest.PublishAsync(
            Items(
                new ReadingInput { SensorId = "known", Value = 1 },
                new ReadingInput { SensorId = "new/1", Value = 1 },
                new ReadingInput { SensorId = "new/1", Value = 2 },
                new ReadingInput { SensorId = "known", Value = 3 },
                new ReadingInput { SensorId = "new/2", Value = 1 }),
            publisher, CancellationToken.None);
        var refusedSensor = await harness.Engine.FindSensorAsync("new/2", CancellationToken.None);
        // With a permit (a connection whose limiter has one left), the same item registers its sensor.
        var withPermit = await harness.Ingest.PublishAsync(
            Items(new ReadingInput { SensorId = "new/2", Value = 1 }), new Publisher("alice", _ => true, newSensors: Limiter(tokens: 1)), CancellationToken.None);

        Assert.Equal(4, result.Accepted);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((4L, SensorHubErrors.RateLimited), (rejection.Index, rejection.Code));
        Assert.StartsWith("sensor 'new/2' is new, and this connection registers sensors faster than it may; retry after ", rejection.Reason, StringComparison.Ordinal);
        Assert.NotNull(SensorHubErrors.RetryAfterOf(rejection.Reason));
        Assert.Null(refusedSensor);
        Assert.Equal(0, newSensors.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(1, withPermit.Accepted);
        Assert.Equal(2, harness.Registry.CountOf("alice"));
    }

    [Fact]
    public async Task APublisherThatMayNotRegisterPublishesToKnownSensorsOnlyAndSpendsNoPermitOnTheRest()
    {
        var harness = Harness();
        var newSensors = Limiter(tokens: 1);
        var subjectless = new Publisher(null, _ => true, newSensors: newSensors, mayRegister: false);
        await harness.Engine.PublishAsync("known", 1);

        var result = await harness.Ingest.PublishAsync(
            Items(new ReadingInput { SensorId = "known", Value = 2 }, new ReadingInput { SensorId = "new/1", Value = 1 }), subjectless, CancellationToken.None);
        var withoutLimiter = await harness.Ingest.PublishAsync(
            Items(new ReadingInput { SensorId = "new/1", Value = 1 }), new Publisher(null, _ => true, mayRegister: false), CancellationToken.None);

        Assert.Equal(1, result.Accepted);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((SensorHubErrors.NotAllowed, "sensor 'new/1' is new, and a token without a subject may not register sensors"), (rejection.Code, rejection.Reason));
        Assert.Equal(SensorHubErrors.NotAllowed, Assert.Single(withoutLimiter.Rejections).Code);
        Assert.Null(await harness.Engine.FindSensorAsync("new/1", CancellationToken.None));
        Assert.Equal(1, newSensors.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task TheServerRegistersAsItsOwnAndADevicesSensorsCountAgainstIt()
    {
        var harness = Harness(new FeedOptions { MaxSensorsPerPublisher = 1 });

        await harness.Ingest.PublishAsync(Items(new ReadingInput { SensorId = "s/1", Value = 1 }, new ReadingInput { SensorId = "s/2", Value = 1 }), Publisher.Server, CancellationToken.None);
        await harness.Ingest.PublishAsync(Items(new ReadingInput { SensorId = "d/1", Value = 1 }), new Publisher("alice", _ => true), CancellationToken.None);

        Assert.Equal(3, harness.Engine.GetCounters().Sensors);
        Assert.Equal(1, harness.Registry.CountOf("alice"));
        Assert.Equal(0, harness.Refusals.Snapshot()[SensorHubErrors.TooManySensors]);
    }

    [Fact]
    public async Task CsvRowsAreRejectedWithTheSameCodesAndCountedOnlyWhenPublished()
    {
        var harness = Harness(new FeedOptions { MaxSensorsPerPublisher = 1 });
        var csv = new CsvProcessor(harness.Ingest, maxSamples: 10);
        var publisher = new Publisher("alice", id => !id.StartsWith("theirs/", StringComparison.Ordinal));
        var rows = "sensorId,timestamp,value\n" +
                   "d/1,1764590000000,1\n" +
                   "d/1,yesterday,2\n" +
                   "d/2,1764590000000,3\n" +
                   "theirs/1,1764590000000,4\n" +
                   "bad id,1764590000000,5\n" +
                   "d/1,1764590000001,6\n";

        await csv.ProcessAsync(Encoding.UTF8.GetBytes(rows), publisher, CancellationToken.None);
        await csv.CompleteAsync(publisher, CancellationToken.None);
        var lookedAt = new CsvProcessor(harness.Ingest, maxSamples: 10);
        await lookedAt.ProcessAsync(Encoding.UTF8.GetBytes(rows), publisher: null, CancellationToken.None);
        await lookedAt.CompleteAsync(publisher: null, CancellationToken.None);

        var summary = csv.Summarize(new UploadResult()).Csv!;
        Assert.Equal((6L, 2L, 4L), (summary.Rows, summary.Accepted, summary.Rejected));
        Assert.Equal(
            [(3L, SensorHubErrors.InvalidArgument), (4, SensorHubErrors.TooManySensors), (5, SensorHubErrors.NotAllowed), (6, SensorHubErrors.InvalidArgument)],
            summary.FirstRejections.Select(r => (r.Line, r.Code)));
        // Looked at without a publisher, a row is only checked: malformed ones carry their code, and nothing is counted.
        Assert.Equal(
            [(3L, SensorHubErrors.InvalidArgument), (6, SensorHubErrors.InvalidArgument)],
            lookedAt.Summarize(new UploadResult()).Csv!.FirstRejections.Select(r => (r.Line, r.Code)));
        var counts = harness.Refusals.Snapshot();
        Assert.Equal((2L, 1L, 1L), (counts[SensorHubErrors.InvalidArgument], counts[SensorHubErrors.NotAllowed], counts[SensorHubErrors.TooManySensors]));
    }

    private EngineHarness Harness(FeedOptions? options = null)
    {
        var harness = new EngineHarness(options, _time);
        _owned.Add(harness);
        return harness;
    }

    /// <summary>A token bucket that never refills by itself: what a test spends is gone.</summary>
    private TokenBucketRateLimiter Limiter(int tokens)
    {
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            AutoReplenishment = false,
            QueueLimit = 0,
        });
        _owned.Add(limiter);
        return limiter;
    }

    private static async IAsyncEnumerable<ReadingInput?> Items(params ReadingInput?[] items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }
}
