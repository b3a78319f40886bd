using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The per-connection rate budgets (<see cref="HubLimitsOptions"/>): calls that create things, readings published,
/// sensors created. Each is a token bucket of its connection (System.Threading.RateLimiting's
/// <see cref="TokenBucketRateLimiter"/>), kept in its <see cref="ConnectionLimits"/> and made when the connection first
/// spends from it.
/// </summary>
/// <remarks>
/// A bucket of its own per connection, not one <see cref="PartitionedRateLimiter"/> for all: that one looks its
/// partition up under a single lock shared by every connection, and the readings budget is spent once per reading
/// published. The buckets have no timer either (an idle connection would pay for one): each is refilled for the time
/// that passed just before it is spent from.
/// </remarks>
internal sealed class ConnectionRates(IOptions<HubLimitsOptions> options)
{
    private readonly HubLimitsOptions _limits = options.Value;

    public RateLimiter NewCreations() => new Refilling(_limits.CreationRateLimit, _limits.CreationRatePeriod);

    public RateLimiter NewReadings() => new Refilling(_limits.PublishRateLimit, _limits.PublishRatePeriod);

    public RateLimiter NewSensors() => new Refilling(_limits.NewSensorRateLimit, _limits.NewSensorRatePeriod);

    /// <summary>
    /// <paramref name="limit"/> permits at once, refilled evenly over <paramref name="period"/>: one permit each
    /// <c>period / limit</c>, so that the lease of a refused call says the real wait for the next permit
    /// (<see cref="MetadataName.RetryAfter"/> counts whole replenishment periods; with all the tokens in one period it
    /// would ask for the whole period). No queue: a call over the budget is refused at once.
    /// </summary>
    private sealed class Refilling(int limit, TimeSpan period) : RateLimiter
    {
        private readonly TokenBucketRateLimiter _bucket = new(Options(limit, period));

        public override TimeSpan? IdleDuration => _bucket.IdleDuration;

        public override RateLimiterStatistics? GetStatistics() => _bucket.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            _bucket.TryReplenish();
            return _bucket.AttemptAcquire(permitCount);
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            _bucket.TryReplenish();
            return _bucket.AcquireAsync(permitCount, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _bucket.Dispose();
            base.Dispose(disposing);
        }

        private static TokenBucketRateLimiterOptions Options(int limit, TimeSpan period)
        {
            var perToken = period.Ticks / limit;
            var (tokens, every) = perToken >= 1
                ? (1, TimeSpan.FromTicks(perToken))
                : ((int)Math.Ceiling((double)limit / period.Ticks), TimeSpan.FromTicks(1));
            return new TokenBucketRateLimiterOptions
            {
                TokenLimit = limit,
                TokensPerPeriod = tokens,
                ReplenishmentPeriod = every,
                QueueLimit = 0,
                AutoReplenishment = false,
            };
        }
    }
}
