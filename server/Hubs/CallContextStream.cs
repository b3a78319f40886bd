namespace SensorHub.Server.Hubs;

/// <summary>
/// A hub method's stream as SignalR enumerates it: the same items, each step (and the disposal) run in the execution
/// context of the call, captured by <see cref="HubDiagnosticsFilter"/> inside the call's log scope. SignalR enumerates
/// a server-to-client stream after the filters have returned, in its own flow, where the scope is gone; run this way,
/// the generator's code, and every continuation it awaits (each captures the context it was started in), logs with
/// the call's fields.
/// </summary>
/// <remarks>
/// Nothing is allocated per item: <see cref="ExecutionContext.Run"/> switches contexts without allocating, its
/// callback is static and the enumerator itself is its state. A scope begun per item would allocate one for each
/// reading delivered. SignalR's own flow already has the call's activity current (it starts it before the filters),
/// so the switch changes only the log scope.
/// </remarks>
internal sealed class CallContextStream<T>(IAsyncEnumerable<T> inner, ExecutionContext context) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Enumerator(inner, context, cancellationToken);

    private sealed class Enumerator : IAsyncEnumerator<T>
    {
        // CA2012: the step is kept only until the method that asked for it returns it, and consumed once, by SignalR.
#pragma warning disable CA2012
        private static readonly ContextCallback s_moveNext = static state =>
        {
            var self = (Enumerator)state!;
            self._step = self._inner.MoveNextAsync();
        };

        private static readonly ContextCallback s_dispose = static state =>
        {
            var self = (Enumerator)state!;
            self._disposal = self._inner.DisposeAsync();
        };
#pragma warning restore CA2012

        private readonly ExecutionContext _context;
        private readonly IAsyncEnumerator<T> _inner;
        private ValueTask<bool> _step;
        private ValueTask _disposal;

        public Enumerator(IAsyncEnumerable<T> inner, ExecutionContext context, CancellationToken cancellationToken)
        {
            _context = context;
            // The generator's body starts at its first step, but a stream that is not one may start at once.
            IAsyncEnumerator<T>? enumerator = null;
            ExecutionContext.Run(context, _ => enumerator = inner.GetAsyncEnumerator(cancellationToken), null);
            _inner = enumerator!;
        }

        public T Current => _inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            ExecutionContext.Run(_context, s_moveNext, this);
            var step = _step;
            _step = default;
            return step;
        }

        public ValueTask DisposeAsync()
        {
            ExecutionContext.Run(_context, s_dispose, this);
            var disposal = _disposal;
            _disposal = default;
            return disposal;
        }
    }
}
