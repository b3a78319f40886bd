using Microsoft.Extensions.Options;

namespace SensorHub.Server.Redis;

/// <summary>
/// Whether this node can use Redis: it pings Redis several times per grace period, and once no ping has been
/// answered for <see cref="RedisOptions.GracePeriod"/> it gives up: <see cref="Lost"/> is cancelled (every live stream
/// that needs Redis ends with <c>backend_unavailable</c>), <see cref="ThrowIfUnavailable"/> refuses at once, and the
/// readiness check answers 503. The first answered ping after that makes it available again.
/// </summary>
/// <remarks>
/// A ping, not StackExchange.Redis's connection events, decides: a Redis that hangs without closing the socket raises
/// no event, and the rule is "never a silent stall".
/// </remarks>
public sealed class RedisAvailability : BackgroundService
{
    private readonly RedisConnection _redis;
    private readonly RedisOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisAvailability> _logger;
    private readonly RedisMetrics _metrics;
    private readonly Lock _lock = new();
    private CancellationTokenSource _lost = new();
    private long _lastAnswer;
    private volatile bool _available = true;
    private string _cause = "";

    public RedisAvailability(
        RedisConnection redis, IOptions<RedisOptions> options, TimeProvider time, ILogger<RedisAvailability> logger, RedisMetrics metrics)
    {
        _metrics = metrics;
        _redis = redis;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _lastAnswer = time.GetTimestamp();
    }

    /// <summary>Whether Redis answered within the grace period.</summary>
    public bool IsAvailable => _available;

    /// <summary>Why Redis is unavailable, for errors and the readiness answer; empty while it is available.</summary>
    public string Cause => _cause;

    /// <summary>
    /// Cancelled when the node gives up on Redis. Read it anew for each stream: once Redis is back a new, uncancelled
    /// token takes its place.
    /// </summary>
    public CancellationToken Lost
    {
        get
        {
            lock (_lock)
                return _lost.Token;
        }
    }

    /// <summary>The error a stream or call gets when Redis is unavailable, naming the cause.</summary>
    public SensorHubException Unavailable() =>
        new(Contracts.SensorHubErrors.BackendUnavailable,
            $"This node cannot reach Redis: {(_cause.Length > 0 ? _cause : "it did not answer")}. Resume on another node or later.");

    /// <summary>Refuses at once while Redis is unavailable.</summary>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>, naming the cause.</exception>
    public void ThrowIfUnavailable()
    {
        if (!_available)
            throw Unavailable();
    }

    /// <summary>
    /// Turns a failure of a Redis command into the error callers get: <c>backend_unavailable</c> with the command's
    /// error as the cause. Used where a command failed before the grace period ran out, for a call that cannot wait.
    /// </summary>
    public SensorHubException Failed(Exception exception) =>
        new(Contracts.SensorHubErrors.BackendUnavailable, $"This node's Redis command failed: {exception.Message} Resume on another node or later.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Four pings per grace period, at most one a second.
        var interval = TimeSpan.FromTicks(Math.Min(_options.GracePeriod.Ticks / 4, TimeSpan.TicksPerSecond));
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            await ProbeAsync(interval, stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task ProbeAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        if (_redis.IsKilled)
            return;
        try
        {
            // StackExchange.Redis times the round trip itself, from the write of the command to its answer.
            var roundTrip = await _redis.Database.PingAsync().WaitAsync(timeout + timeout, _time, stoppingToken).ConfigureAwait(false);
            _metrics.PingAnswered(roundTrip);
            Answered();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            NotAnswered(e.Message);
        }
    }

    private void Answered()
    {
        Volatile.Write(ref _lastAnswer, _time.GetTimestamp());
        if (_available)
            return;
        lock (_lock)
        {
            _lost.Dispose();
            _lost = new CancellationTokenSource();
            _cause = "";
            _available = true;
        }
        RedisLog.Available(_logger);
    }

    private void NotAnswered(string error)
    {
        var silentFor = _time.GetElapsedTime(Volatile.Read(ref _lastAnswer));
        if (!_available || silentFor < _options.GracePeriod)
            return;
        CancellationTokenSource lost;
        lock (_lock)
        {
            _cause = $"no answer for {silentFor.TotalSeconds:0.#} s, past the grace period of {_options.GracePeriod.TotalSeconds:0.#} s ({error})";
            _available = false;
            lost = _lost;
        }
        RedisLog.Unavailable(_logger, _cause);
        lost.Cancel();
    }

    public override void Dispose()
    {
        base.Dispose();
        _lost.Dispose();
    }
}
