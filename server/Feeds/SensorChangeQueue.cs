using System.Threading.Channels;

namespace SensorHub.Server.Feeds;

/// <summary>
/// A watch's changes (<see cref="ISensorWatch.Changes"/>): a bounded queue that an engine reports into without ever
/// waiting and one stream reads. When it holds <see cref="Capacity"/> changes and another comes, what it holds is
/// replaced by one <see cref="SensorChangeKind.Resync"/>: the reader lists the sensors again, which covers every change
/// it lost, and the queue never grows with a reader that does not read.
/// </summary>
/// <remarks>
/// A channel cannot do this (a full <c>DropOldest</c> channel would lose changes silently, and a writer cannot empty
/// it), hence this small reader of its own. Changes are rare next to readings: one lock, taken by the engine's
/// reporting (under its own membership lock: this lock is a leaf) and by the reader.
/// </remarks>
public sealed class SensorChangeQueue : ChannelReader<SensorChange>
{
    /// <summary>The capacity of a watch's queue unless an engine says otherwise: 1,024 changes.</summary>
    public const int DefaultCapacity = 1_024;

    private readonly Lock _gate = new();
    private readonly Queue<SensorChange> _queue = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<bool>? _waiter;
    private bool _done;
    private Exception? _error;

    /// <param name="capacity">Changes kept before they are replaced by one <see cref="SensorChangeKind.Resync"/> (1 or more).</param>
    public SensorChangeQueue(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Changes kept at most.</summary>
    public int Capacity { get; }

    /// <inheritdoc/>
    public override Task Completion => _completion.Task;

    /// <inheritdoc/>
    public override bool CanCount => true;

    /// <inheritdoc/>
    public override int Count
    {
        get
        {
            lock (_gate)
                return _queue.Count;
        }
    }

    /// <summary>Adds a change, or, when the queue is full, replaces everything in it by one <see cref="SensorChangeKind.Resync"/>. Never waits; nothing once completed.</summary>
    public void Report(SensorChange change)
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            if (_done)
                return;
            if (_queue.Count >= Capacity)
            {
                // The reader lists the sensors again on a Resync, after this: the listing covers the change too.
                _queue.Clear();
                _queue.Enqueue(new SensorChange(SensorChangeKind.Resync, null));
            }
            else
            {
                _queue.Enqueue(change);
            }
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult(true);
    }

    /// <summary>No change will come any more: the reader reads what is queued, then sees the end (with <paramref name="error"/>, when given).</summary>
    public void Complete(Exception? error = null)
    {
        TaskCompletionSource<bool>? wake;
        bool empty;
        lock (_gate)
        {
            if (_done)
                return;
            _done = true;
            _error = error;
            wake = _waiter;
            _waiter = null;
            empty = _queue.Count == 0;
        }
        if (empty)
            Finish();
        if (wake is not null)
        {
            if (error is null)
                wake.TrySetResult(false);
            else
                wake.TrySetException(error);
        }
    }

    /// <inheritdoc/>
    public override bool TryRead(out SensorChange item)
    {
        bool finished;
        lock (_gate)
        {
            if (!_queue.TryDequeue(out item))
                return false;
            finished = _done && _queue.Count == 0;
        }
        if (finished)
            Finish();
        return true;
    }

    /// <inheritdoc/>
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        Task<bool> wait;
        lock (_gate)
        {
            if (_queue.Count > 0)
                return new ValueTask<bool>(true);
            if (_done)
                return _error is null ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(_error);
            _waiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _waiter.Task;
        }
        return new ValueTask<bool>(cancellationToken.CanBeCanceled ? wait.WaitAsync(cancellationToken) : wait);
    }

    private void Finish()
    {
        if (_error is null)
            _completion.TrySetResult();
        else
            _completion.TrySetException(_error);
    }
}
