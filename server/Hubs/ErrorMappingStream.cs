using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
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

    /// <remarks>
    /// A step that waits is completed through the enumerator itself (one reusable <see cref="IValueTaskSource{TResult}"/>
    /// per stream), not through an async method: that would allocate a state machine each time the stream waits for
    /// an item, which a live feed at light load does for every reading, and every idle stream would hold one
    /// (136 bytes, dotnet-gcdump of 1,000 idle connections). SignalR awaits one step at a time.
    /// </remarks>
    private sealed class Enumerator : IAsyncEnumerator<T>, IValueTaskSource<bool>
    {
        private readonly IAsyncEnumerator<T> _inner;
        private readonly ErrorContext _errors;
        private readonly Action _onInnerCompleted;
        // Continuations run where the inner step completed, as they would after an await.
        private ManualResetValueTaskSourceCore<bool> _step;
        private ConfiguredValueTaskAwaitable<bool>.ConfiguredValueTaskAwaiter _pending;

        public Enumerator(IAsyncEnumerator<T> inner, ErrorContext errors)
        {
            _inner = inner;
            _errors = errors;
            _onInnerCompleted = OnInnerCompleted;
        }

        public T Current => _inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            ValueTask<bool> next;
            try
            {
                next = _inner.MoveNextAsync();
            }
            catch (SensorHubException ex)
            {
                throw _errors.From(ex);
            }
            // The common case, an item already buffered, costs nothing more.
            if (next.IsCompletedSuccessfully)
                return next;
            if (next.IsCompleted)
            {
                // Failed at once (an unknown sensor found on the first step): mapped here, in the flow SignalR steps
                // the stream in, which is the call's (CallContextStream), so that the refusal is logged with the
                // call's fields. A continuation on a step that has already completed would be queued to the thread
                // pool, without them.
                try
                {
                    return new ValueTask<bool>(next.GetAwaiter().GetResult());
                }
                catch (Exception ex)
                {
                    return ValueTask.FromException<bool>(Mapped(ex));
                }
            }
            _step.Reset();
            _pending = next.ConfigureAwait(false).GetAwaiter();
            _pending.UnsafeOnCompleted(_onInnerCompleted);
            return new ValueTask<bool>(this, _step.Version);
        }

        public ValueTask DisposeAsync() => _inner.DisposeAsync();

        bool IValueTaskSource<bool>.GetResult(short token) => _step.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _step.GetStatus(token);

        void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _step.OnCompleted(continuation, state, token, flags);

        /// <summary>What the step fails with; never throws, so that the step always completes.</summary>
        private Exception Mapped(Exception error)
        {
            try
            {
                if (error is SensorHubException refusal)
                    return _errors.From(refusal);
                _errors.LogUnexpected(error);
            }
            catch (Exception mappingFailed)
            {
                return new AggregateException(error, mappingFailed);
            }
            return error;
        }

        private void OnInnerCompleted()
        {
            var pending = _pending;
            _pending = default;
            bool result;
            try
            {
                result = pending.GetResult();
            }
            catch (Exception ex)
            {
                _step.SetException(Mapped(ex));
                return;
            }
            _step.SetResult(result);
        }
    }
}
