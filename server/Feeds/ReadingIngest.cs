using Microsoft.Extensions.Options;
using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// The one way readings come in, for devices (the hub's <c>Publish</c>), CSV uploads and simulated sensors alike: each
/// item is checked alone, published when valid and allowed, and reported when not, so a bad item never costs the items
/// around it.
/// </summary>
public sealed class ReadingIngest(IFeedEngine engine, IOptions<FeedOptions> options, TimeProvider time, ILogger<ReadingIngest> logger)
{
    private readonly FeedOptions _options = options.Value;

    /// <summary>Publishes a stream of readings until it ends, and says what became of them.</summary>
    /// <param name="readings">The stream.</param>
    /// <param name="publisher">Who publishes: the sensors it may publish to (an item for any other is rejected alone) and its limits.</param>
    /// <param name="cancellationToken">Ends the stream early.</param>
    public async Task<PublishResult> PublishAsync(IAsyncEnumerable<ReadingInput?> readings, Publisher publisher, CancellationToken cancellationToken)
    {
        long index = 0, accepted = 0, rejected = 0;
        var rejections = new List<PublishRejection>();
        await foreach (var item in readings.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (await PublishOneAsync(item, publisher, cancellationToken).ConfigureAwait(false) is { } reason)
            {
                rejected++;
                if (rejections.Count < _options.MaxRejectionsReported)
                    rejections.Add(new PublishRejection { Index = index, SensorId = item?.SensorId, Reason = reason });
            }
            else
            {
                accepted++;
            }
            index++;
        }
        FeedsLog.PublishEnded(logger, accepted, rejected);
        return new PublishResult { Accepted = accepted, Rejected = rejected, Rejections = [.. rejections] };
    }

    /// <summary>Checks one reading and publishes it when it is valid.</summary>
    /// <returns>Why it was rejected, or <see langword="null"/> when it was published.</returns>
    public ValueTask<string?> PublishOneAsync(ReadingInput? item, Publisher publisher, CancellationToken cancellationToken) =>
        item is null
            ? ValueTask.FromResult<string?>("the item is null")
            : PublishOneAsync(item.SensorId, item.Value, item.Timestamp, publisher, cancellationToken);

    /// <summary>Checks one reading and publishes it when it is valid and <paramref name="publisher"/> may publish to its sensor.</summary>
    /// <returns>Why it was rejected, or <see langword="null"/> when it was published.</returns>
    public async ValueTask<string?> PublishOneAsync(
        string? sensorId, double value, DateTime? timestamp, Publisher publisher, CancellationToken cancellationToken)
    {
        if (Check(sensorId, value, timestamp, out var timestampUtc) is { } reason)
            return reason;
        if (!publisher.MayPublish(sensorId!))
            return $"not allowed to publish to sensor '{sensorId}'";
        await engine.PublishAsync(sensorId!, value, timestampUtc, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>What is wrong with one reading, or <see langword="null"/> when it could be published.</summary>
    public string? Check(string? sensorId, double value, DateTime? timestamp) => Check(sensorId, value, timestamp, out _);

    /// <summary>What is wrong with one reading, or <see langword="null"/> with its UTC timestamp when it is fine.</summary>
    private string? Check(string? sensorId, double value, DateTime? timestamp, out DateTime timestampUtc)
    {
        var now = time.GetUtcNow().UtcDateTime;
        timestampUtc = now;
        if (!SensorId.IsValid(sensorId, out var problem))
            return $"sensorId {problem}";
        if (double.IsNaN(value))
            return "value is NaN; a finite number is required";
        if (double.IsInfinity(value))
            return "value is infinite; a finite number is required";
        if (timestamp is { } given)
        {
            // A timestamp without a zone is taken as UTC, the contract's only zone.
            timestampUtc = given.Kind switch
            {
                DateTimeKind.Local => given.ToUniversalTime(),
                DateTimeKind.Unspecified => DateTime.SpecifyKind(given, DateTimeKind.Utc),
                _ => given,
            };
            if (timestampUtc - now > _options.MaxTimestampSkew)
                return $"timestamp {timestampUtc:O} is more than {_options.MaxTimestampSkew} ahead of the server's clock ({now:O})";
        }
        return null;
    }
}
