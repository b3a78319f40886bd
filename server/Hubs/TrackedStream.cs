using Microsoft.AspNetCore.SignalR;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Hubs;

/// <summary>
/// A hub method's stream as SignalR enumerates it: the same items, with the stream's place in the counts given
/// back when SignalR disposes it (completion, client cancel, connection gone, shutdown), and caller errors raised
/// during the stream turned into <see cref="HubException"/>s.
/// </summary>
internal sealed class TrackedStream<T>(IAsyncEnumerable<T> inner, StreamTrackingFilter.StreamLease lease) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Enumerator(inner.GetAsyncEnumerator(cancellationToken), lease);

    private sealed class Enumerator(IAsyncEnumerator<T> inner, StreamTrackingFilter.StreamLease lease) : IAsyncEnumerator<T>
    {
        public T Current => inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            // The common case, an item already buffered, costs no extra state machine.
            var next = inner.MoveNextAsync();
            return next.IsCompletedSuccessfully ? next : AwaitAsync(next);
        }

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

        private static async ValueTask<bool> AwaitAsync(ValueTask<bool> next)
        {
            try
            {
                return await next;
            }
            catch (SensorHubException ex)
            {
                throw HubErrors.From(ex);
            }
        }
    }
}
