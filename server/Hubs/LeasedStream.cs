using System.Diagnostics;

namespace SensorHub.Server.Hubs;

/// <summary>
/// A hub method's stream as SignalR enumerates it: the same items, with the stream's place in the connection's
/// limits and in the counts given back when SignalR disposes it (completion, client cancel, connection gone,
/// shutdown), that is after the generator's <c>finally</c> has run.
/// </summary>
internal sealed class LeasedStream<T>(IAsyncEnumerable<T> inner, StreamLease lease) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Enumerator(inner.GetAsyncEnumerator(cancellationToken), lease, cancellationToken);

    /// <remarks>
    /// The moment of cancellation is taken by one registration on SignalR's token per stream, not per item: it is
    /// what <c>sensorhub.stream.cleanup.duration</c> measures from.
    /// </remarks>
    private sealed class Enumerator : IAsyncEnumerator<T>
    {
        private readonly IAsyncEnumerator<T> _inner;
        private readonly StreamLease _lease;
        private readonly CancellationTokenRegistration _onCancel;

        public Enumerator(IAsyncEnumerator<T> inner, StreamLease lease, CancellationToken cancellationToken)
        {
            _inner = inner;
            _lease = lease;
            _onCancel = cancellationToken.UnsafeRegister(static state => ((StreamLease)state!).Cancelled(), lease);
        }

        public T Current => _inner.Current;

        public ValueTask<bool> MoveNextAsync() => _inner.MoveNextAsync();

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _inner.DisposeAsync();
            }
            finally
            {
                _onCancel.Dispose();
                _lease.Release();
            }
        }
    }
}

/// <summary>
/// One running server-to-client stream's place in its connection's stream slots and in <c>activeStreams</c>, given
/// back exactly once; it also carries what the stream's duration metrics need (its method, start and cancellation).
/// </summary>
internal sealed class StreamLease
{
    private readonly SlotCounter _streams;
    private readonly HubActivity _activity;
    private readonly string _method;
    private readonly long _started;
    private long _cancelled;
    private int _released;

    /// <summary>Counts the stream of <paramref name="method"/> as running from now.</summary>
    public StreamLease(SlotCounter streams, HubActivity activity, string method)
    {
        _streams = streams;
        _activity = activity;
        _method = method;
        _started = activity.StreamStarted(method);
    }

    /// <summary>Notes when the stream's token was cancelled (the first time only).</summary>
    public void Cancelled() => Interlocked.CompareExchange(ref _cancelled, Stopwatch.GetTimestamp(), 0);

    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        _streams.Release();
        _activity.StreamEnded(_method, _started, Volatile.Read(ref _cancelled));
    }
}
