using Microsoft.AspNetCore.SignalR;

namespace SensorHub.Server.Hubs;

/// <summary>
/// A hub method's stream as SignalR enumerates it: the same items, with a <see cref="SensorHubException"/> raised
/// during the stream (an unknown sensor found on its first step, a session stream that fell behind) turned into a
/// <see cref="HubException"/> (<see cref="HubErrorFilter"/>).
/// </summary>
internal sealed class ErrorMappingStream<T>(IAsyncEnumerable<T> inner, ErrorContext errors) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Enumerator(inner.GetAsyncEnumerator(cancellationToken), errors);

    private sealed class Enumerator(IAsyncEnumerator<T> inner, ErrorContext errors) : IAsyncEnumerator<T>
    {
        public T Current => inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            // The common case, an item already buffered, costs no extra state machine.
            ValueTask<bool> next;
            try
            {
                next = inner.MoveNextAsync();
            }
            catch (SensorHubException ex)
            {
                throw errors.From(ex);
            }
            return next.IsCompletedSuccessfully ? next : AwaitAsync(next);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private async ValueTask<bool> AwaitAsync(ValueTask<bool> next)
        {
            try
            {
                return await next;
            }
            catch (SensorHubException ex)
            {
                throw errors.From(ex);
            }
            catch (Exception ex) when (errors.LogUnexpected(ex))
            {
                throw;
            }
        }
    }
}
