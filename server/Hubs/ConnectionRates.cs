using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The per-connection rate budgets (<see cref="HubLimitsOptions"/>): calls that create things, readings published,
/// sensors created. Each is a token bucket per connection id in one <see cref="PartitionedRateLimiter{TResource}"/>
/// (System.Threading.RateLimiting), which refills every bucket from one timer and forgets the buckets of connections
/// that are gone once they are full again, so an idle or closed connection costs nothing.
/// </summary>
internal sealed class ConnectionRates : IDisposable
{
    private readonly PartitionedRateLimiter<string> _creations;
    private readonly PartitionedRateLimiter<string> _readings;
    private readonly PartitionedRateLimiter<string> _newSensors;

    public ConnectionRates(IOptions<HubLimitsOptions> options)
    {
        var limits = options.Value;
        _creations = Buckets(limits.CreationRateLimit, limits.CreationRatePeriod);
        _readings = Buckets(limits.PublishRateLimit, limits.PublishRatePeriod);
        _newSensors = Buckets(limits.NewSensorRateLimit, limits.NewSensorRatePeriod);
    }

    /// <summary>One permit of <paramref name="connectionId"/>'s creation budget; the caller disposes the lease.</summary>
    public RateLimitLease TakeCreation(string connectionId) => _creations.AttemptAcquire(connectionId);

    /// <summary><paramref name="connectionId"/>'s budget of readings published, as a <see cref="RateLimiter"/> for its <c>Publisher</c>.</summary>
    public RateLimiter ReadingsOf(string connectionId) => new Partition(_readings, connectionId);

    /// <summary><paramref name="connectionId"/>'s budget of sensors created, as a <see cref="RateLimiter"/> for its <c>Publisher</c>.</summary>
    public RateLimiter NewSensorsOf(string connectionId) => new Partition(_newSensors, connectionId);

    public void Dispose()
    {
        _creations.Dispose();
        _readings.Dispose();
        _newSensors.Dispose();
    }

    /// <summary>
    /// <paramref name="limit"/> permits at once, refilled evenly over <paramref name="period"/>: one permit each
    /// <c>period / limit</c>, so that the lease of a refused call says the real wait for the next permit
    /// (<see cref="MetadataName.RetryAfter"/> counts whole replenishment periods; with all the tokens in one period it
    /// would ask for the whole period). No queue: a call over the budget is refused at once.
    /// </summary>
    private static PartitionedRateLimiter<string> Buckets(int limit, TimeSpan period)
    {
        var perToken = period.Ticks / limit;
        var (tokens, every) = perToken >= 1
            ? (1, TimeSpan.FromTicks(perToken))
            : ((int)Math.Ceiling((double)limit / period.Ticks), TimeSpan.FromTicks(1));
        return PartitionedRateLimiter.Create<string, string>(connectionId => RateLimitPartition.GetTokenBucketLimiter(
            connectionId,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limit,
                TokensPerPeriod = tokens,
                ReplenishmentPeriod = every,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>One connection's bucket of a partitioned limiter, seen as a limiter of its own.</summary>
    private sealed class Partition(PartitionedRateLimiter<string> limiter, string connectionId) : RateLimiter
    {
        public override TimeSpan? IdleDuration => null;

        public override RateLimiterStatistics? GetStatistics() => limiter.GetStatistics(connectionId);

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => limiter.AttemptAcquire(connectionId, permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            limiter.AcquireAsync(connectionId, permitCount, cancellationToken);
    }
}
