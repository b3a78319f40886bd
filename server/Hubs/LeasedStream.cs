namespace SensorHub.Server.Hubs;

/// <summary>
/// A hub method's stream as SignalR enumerates it: the same items, with the stream's place in the connection's
/// limits and in the counts given back when SignalR disposes it (completion, client cancel, connection gone,
/// shutdown), that is after the generator's <c>finally</c> has run.
/// </summary>
internal sealed class LeasedStream<T>(IAsyncEnumerable<T> inner, StreamLease lease) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Enumerator(inner.GetAsyncEnumerator(cancellationToken), lease);

    private sealed class Enumerator(IAsyncEnumerator<T> inner, StreamLease lease) : IAsyncEnumerator<T>
    {
        public T Current => inner.Current;

        public ValueTask<bool> MoveNextAsync() => inner.MoveNextAsync();

        public async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync();
            }
            finally
            {
                lease.Release();
            }
        }
    }
}

/// <summary>One running server-to-client stream's place in its connection's stream slots and in <c>activeStreams</c>, given back exactly once.</summary>
internal sealed class StreamLease(SlotCounter streams, HubActivity activity)
{
    private int _released;

    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        streams.Release();
        activity.StreamEnded();
    }
}
