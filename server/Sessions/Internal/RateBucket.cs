namespace SensorHub.Server.Sessions.Internal;

/// <summary>
/// A token bucket: <c>capacity</c> takes at once, then one more each <c>period / capacity</c>. Not thread-safe: its
/// session's lock guards it.
/// </summary>
internal sealed class RateBucket(int capacity, TimeSpan period, TimeProvider time)
{
    private double _tokens = capacity;
    private long _refilled = time.GetTimestamp();

    public bool TryTake()
    {
        Refill();
        if (_tokens < 1)
            return false;
        _tokens--;
        return true;
    }

    /// <summary>How long until the next take succeeds (zero when one would now).</summary>
    public TimeSpan UntilNext
    {
        get
        {
            Refill();
            return _tokens >= 1 ? TimeSpan.Zero : (1 - _tokens) / capacity * period;
        }
    }

    /// <summary>Whether it is back to its capacity, so that forgetting it changes nothing.</summary>
    public bool IsFull
    {
        get
        {
            Refill();
            return _tokens >= capacity;
        }
    }

    private void Refill()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(capacity, _tokens + time.GetElapsedTime(_refilled, now) / period * capacity);
        _refilled = now;
    }
}
