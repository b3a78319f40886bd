using Microsoft.AspNetCore.SignalR.Client;

namespace SensorHub.Client.Internal;

/// <summary>Waits the given delays in turn, then the last one forever: the client never gives up by itself.</summary>
internal sealed class BackoffRetryPolicy : IRetryPolicy
{
    private readonly TimeSpan[] _delays;

    public BackoffRetryPolicy(IReadOnlyList<TimeSpan> delays)
    {
        _delays = delays.Count == 0 ? [TimeSpan.FromSeconds(5)] : [.. delays];
        if (_delays.Any(d => d < TimeSpan.Zero))
            throw new ArgumentException("Reconnect delays must not be negative.", nameof(delays));
    }

    public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
        _delays[(int)Math.Min(retryContext.PreviousRetryCount, _delays.Length - 1)];
}
