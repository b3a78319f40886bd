using SensorHub.Contracts;

namespace SensorHub.Server.Feeds;

/// <summary>
/// A <c>SubscribeMany</c> stream's read position over any engine: one <see cref="SharedLiveBuffer"/> that every
/// matching sensor's subscription writes into, one <see cref="ISensorWatch"/> that reports sensors appearing and going,
/// and a small state per sensor (its next sequence, where its replay ends, its pacing slot and its newest pending
/// reading). Read it with <see cref="ReadAsync"/>, one batch at a time. One reader.
/// </summary>
/// <remarks>
/// <para>
/// Opening: the watch first, then the list of matching sensors (each subscribed live, or replayed from its
/// <c>fromSequences</c> entry), then the changes the watch reported meanwhile: a listed sensor that it reported added
/// is replayed from its first reading, since the list may have seen it after its first readings. Sensors added later
/// are replayed from their first reading too (from 0, the oldest kept), each replay ending at the sequence its
/// subscription attached after, where its live readings begin: the seam of <see cref="FeedCursor"/>, per sensor.
/// </para>
/// <para>
/// Replays go first: while one is under way the shared buffer is not read, so each sensor's live readings come after
/// its replay. A reading the buffer dropped (the consumer is slow) is not filled from history, unlike
/// <see cref="FeedCursor"/>: a stream of many sensors sheds load; the sensor's sequence jumps, and the jump is counted
/// as dropped on its subscription. Paced (<c>maxRate</c>) sensors keep only their newest reading until their slot
/// comes (not counted, as <c>Subscribe</c>'s sampled mode); a queue of due times wakes the reader for the earliest, so
/// one paced sensor never holds the others up.
/// </para>
/// <para>
/// Cost per live reading: one dictionary lookup and the counters, no allocation; waits allocate (a few tasks per
/// wait, so per batch), and so do changes of membership, which are rare.
/// </para>
/// </remarks>
internal sealed class ManyFeedCursor : IDisposable
{
    /// <summary>Sensors asked for at a time when listing.</summary>
    private const int ListPageSize = SensorQuery.MaxLimit;

    private readonly IFeedEngine _engine;
    private readonly IReadingHistory _history;
    private readonly SensorPattern _pattern;
    private readonly Predicate<string>? _visible;
    private readonly IReadOnlyDictionary<string, long>? _fromSequences;
    private readonly SharedLiveBuffer _buffer;
    private readonly int _maxBatchSize;
    private readonly int _pageSize;
    private readonly long _intervalTicks;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, SensorState> _sensors = new(StringComparer.Ordinal);
    private readonly Queue<SensorState> _replays = new();
    private readonly PriorityQueue<SensorState, long> _due = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Predicate<string> _wanted;

    private ISensorWatch? _watch;
    private CancellationTokenRegistration _cancelRegistration;
    private Task<bool>? _bufferWait;
    private Task<bool>? _watchWait;
    private Task? _slotWait;
    private long _slotDue;
    private bool _watchDone;
    private bool _ending;
    private Exception? _failure;

    /// <param name="engine">Where the watch and the subscriptions come from.</param>
    /// <param name="history">Where replays read from.</param>
    /// <param name="pattern">Which sensors.</param>
    /// <param name="options">Pacing and resume points, checked already (by the hub); <see langword="null"/>: neither.</param>
    /// <param name="visible">Which ids the caller may read; <see langword="null"/>: all.</param>
    /// <param name="bufferCapacity">Readings the shared buffer keeps (<see cref="FeedOptions.SubscribeManyBufferCapacity"/>).</param>
    /// <param name="maxBatchSize">Readings in one batch at most (<see cref="FeedOptions.MaxBatchSize"/>).</param>
    /// <param name="pageSize">Readings read from history at a time (<see cref="FeedOptions.ReplayPageSize"/>).</param>
    /// <param name="time">The clock pacing follows.</param>
    public ManyFeedCursor(
        IFeedEngine engine,
        IReadingHistory history,
        SensorPattern pattern,
        SubscribeManyOptions? options,
        Predicate<string>? visible,
        int bufferCapacity,
        int maxBatchSize,
        int pageSize,
        TimeProvider time)
    {
        if (options?.MaxRate is { } rate && !(rate >= SubscribeOptions.MaxRateMinimum && rate <= SubscribeOptions.MaxRateMaximum))
            throw new ArgumentOutOfRangeException(nameof(options), rate, "maxRate is outside its range.");
        _engine = engine;
        _history = history;
        _pattern = pattern;
        _visible = visible;
        _fromSequences = options?.FromSequences;
        _buffer = new SharedLiveBuffer(bufferCapacity);
        _maxBatchSize = maxBatchSize;
        _pageSize = pageSize;
        _time = time;
        _intervalTicks = options?.MaxRate is { } r ? Math.Max(1, (long)(time.TimestampFrequency / r)) : 0;
        _wanted = Wanted;
    }

    /// <summary>Sensors followed now.</summary>
    public int Sensors => _sensors.Count;

    /// <summary>
    /// Whether the stream ends because the engine lost its backend: the shared buffer, the watch or a history read
    /// failed with <c>backend_unavailable</c>.
    /// </summary>
    public bool Interrupted { get; private set; }

    private bool Paced => _intervalTicks > 0;

    /// <summary>
    /// Opens the watch, lists and subscribes the matching sensors, and takes in what the watch reported meanwhile.
    /// Cancelling <paramref name="cancellationToken"/> later ends the waits of <see cref="ReadAsync"/>.
    /// </summary>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>: the engine cannot reach its store.</exception>
    public async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        _cancelRegistration = cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), _cancelled);
        try
        {
            // The watch first: a sensor registered while the list is read is then either listed or reported, or both.
            _watch = await _engine.WatchSensorsAsync(_pattern.Prefix, cancellationToken).ConfigureAwait(false);
            await ListAsync(resync: false, cancellationToken).ConfigureAwait(false);
            // What was registered since the watch began: a listed one may have been listed after its first readings,
            // which its live subscription never saw, so it too starts from its first reading.
            while (_watch.Changes.TryRead(out var change))
            {
                if (change.Kind == SensorChangeKind.Added && change.SensorId is { } id && _sensors.TryGetValue(id, out var known)
                    && !known.Replaying && _fromSequences?.ContainsKey(id) != true)
                {
                    StartReplay(known, 0);
                }
                else
                {
                    await ApplyAsync(change, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (SensorHubException e) when (IsBackendLoss(e))
        {
            Interrupted = true;
            throw;
        }
    }

    /// <summary>
    /// Adds the next readings to <paramref name="batch"/> (empty when called), up to the batch size: what is ready, or
    /// the first that comes. <see langword="false"/> once the stream ended normally (the server stops: what was
    /// buffered and every paced sensor's pending reading came first).
    /// </summary>
    /// <exception cref="OperationCanceledException">The token given to <see cref="OpenAsync"/> or this one was cancelled.</exception>
    /// <exception cref="SensorHubException"><c>backend_unavailable</c>, once what was buffered is read.</exception>
    public ValueTask<bool> ReadAsync(List<Reading> batch, CancellationToken cancellationToken) =>
        ReadAsync(batch, wait: true, cancellationToken);

    /// <summary>
    /// <see cref="ReadAsync(List{Reading}, CancellationToken)"/> without the wait: what is ready now, possibly nothing
    /// (<see langword="true"/> and an empty batch). For tests that play an interleaving on one thread.
    /// </summary>
    internal ValueTask<bool> ReadReadyAsync(List<Reading> batch, CancellationToken cancellationToken) =>
        ReadAsync(batch, wait: false, cancellationToken);

    private async ValueTask<bool> ReadAsync(List<Reading> batch, bool wait, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_ending)
                    return End(batch);

                // Replays first: while a sensor replays, its live readings wait in the buffer.
                await ReplayAsync(batch, cancellationToken).ConfigureAwait(false);
                if (batch.Count == _maxBatchSize)
                    return true;
                if (_replays.Count > 0)
                    continue;

                if (!_watchDone && _watch!.Changes.TryRead(out var change))
                {
                    await ApplyAsync(change, cancellationToken).ConfigureAwait(false);
                    while (_replays.Count == 0 && _watch.Changes.TryRead(out change))
                        await ApplyAsync(change, cancellationToken).ConfigureAwait(false);
                    if (_replays.Count > 0)
                        continue;
                }

                TakeDue(batch);
                ReadLive(batch);
                if (batch.Count > 0 || !wait)
                    return true;

                await WaitAsync().ConfigureAwait(false);
            }
        }
        catch (SensorHubException e) when (IsBackendLoss(e))
        {
            Interrupted = true;
            throw;
        }
    }

    public void Dispose()
    {
        _cancelRegistration.Dispose();
        _stop.Cancel();
        _stop.Dispose();
        foreach (var state in _sensors.Values)
            state.Subscription.Dispose();
        _sensors.Clear();
        _watch?.Dispose();
    }

    private static bool IsBackendLoss(Exception? error) =>
        error is SensorHubException { Code: SensorHubErrors.BackendUnavailable };

    private bool Wanted(string sensorId) => _pattern.Matches(sensorId) && (_visible is null || _visible(sensorId));

    /// <summary>
    /// Lists the matching sensors the caller may read and subscribes to those not followed yet: live, or from their
    /// <c>fromSequences</c> entry; on a <paramref name="resync"/> from their first reading (they appeared while changes
    /// were lost), and those followed but no longer listed are let go (they were removed).
    /// </summary>
    private async ValueTask ListAsync(bool resync, CancellationToken cancellationToken)
    {
        var listed = resync ? new HashSet<string>(StringComparer.Ordinal) : null;
        string? after = null;
        do
        {
            var page = await _engine.ListSensorsAsync(_pattern.Prefix, after, ListPageSize, _wanted, cancellationToken).ConfigureAwait(false);
            foreach (var sensor in page.Sensors)
            {
                listed?.Add(sensor.Id);
                if (_sensors.TryGetValue(sensor.Id, out var known))
                {
                    // Known by id, but a sensor registered again since (its numbering starts above every earlier one).
                    if (!resync || sensor.FirstSequence <= known.ReplayEnd + 1)
                        continue;
                    Remove(sensor.Id);
                }
                await SubscribeAsync(sensor.Id, resync ? FromOf(sensor.Id) ?? 0 : FromOf(sensor.Id), cancellationToken).ConfigureAwait(false);
            }
            after = page.Next;
        }
        while (after is not null);

        if (listed is not null)
        {
            foreach (var id in _sensors.Keys.Where(id => !listed.Contains(id)).ToList())
                Remove(id);
        }
    }

    private long? FromOf(string sensorId) => _fromSequences is not null && _fromSequences.TryGetValue(sensorId, out var from) ? from : null;

    private async ValueTask ApplyAsync(SensorChange change, CancellationToken cancellationToken)
    {
        switch (change.Kind)
        {
            case SensorChangeKind.Added when change.SensorId is { } id && !_sensors.ContainsKey(id) && Wanted(id):
                // A sensor that appears joins from its first reading (0: the oldest kept), unless the caller said where.
                await SubscribeAsync(id, FromOf(id) ?? 0, cancellationToken).ConfigureAwait(false);
                break;
            case SensorChangeKind.Removed when change.SensorId is { } id:
                Remove(id);
                break;
            case SensorChangeKind.Resync:
                await ListAsync(resync: true, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask SubscribeAsync(string sensorId, long? from, CancellationToken cancellationToken)
    {
        var subscription = await _engine.SubscribeAsync(sensorId, _buffer, cancellationToken).ConfigureAwait(false);
        // Removed since it was listed or reported: the watch reports that too.
        if (subscription is null)
            return;
        var state = new SensorState(sensorId, subscription);
        _sensors.Add(sensorId, state);
        if (from is { } sequence)
            StartReplay(state, sequence);
    }

    private void StartReplay(SensorState state, long from)
    {
        state.Next = from;
        if (from > state.ReplayEnd || state.Replaying)
            return;
        state.Replaying = true;
        _replays.Enqueue(state);
    }

    /// <summary>Lets a sensor go: its subscription is disposed, and what is still buffered or pending of it is passed over.</summary>
    private void Remove(string sensorId)
    {
        if (!_sensors.Remove(sensorId, out var state))
            return;
        state.Removed = true;
        state.Pending = null;
        state.Subscription.Dispose();
    }

    /// <summary>History up to each replaying sensor's attach point, a page at a time, unpaced.</summary>
    private async ValueTask ReplayAsync(List<Reading> batch, CancellationToken cancellationToken)
    {
        while (batch.Count < _maxBatchSize && _replays.TryPeek(out var state))
        {
            var added = 0;
            if (!state.Removed && state.Next <= state.ReplayEnd)
            {
                var maxCount = (int)Math.Min(Math.Min(_pageSize, _maxBatchSize - batch.Count), state.ReplayEnd + 1 - state.Next);
                var page = await _history.ReadAsync(state.Id, state.Next, maxCount, cancellationToken).ConfigureAwait(false);
                // History's pages are consecutive, but may start later than asked (the oldest kept is newer).
                foreach (var reading in page)
                {
                    if (reading.Sequence > state.ReplayEnd)
                        break;
                    if (reading.Sequence < state.Next)
                        continue;
                    batch.Add(reading);
                    state.Next = reading.Sequence + 1;
                    added++;
                }
                if (added > 0)
                {
                    state.Subscription.CountDelivered(added);
                    state.Subscription.CountReplayed(added);
                    continue;
                }
            }
            // Done, or history holds nothing more up to the attach point: live readings follow from after it.
            state.Next = Math.Max(state.Next, state.ReplayEnd + 1);
            state.Replaying = false;
            _replays.Dequeue();
        }
    }

    /// <summary>Paced sensors whose slot has come: their newest pending reading.</summary>
    private void TakeDue(List<Reading> batch)
    {
        if (_due.Count == 0)
            return;
        var now = _time.GetTimestamp();
        while (batch.Count < _maxBatchSize && _due.TryPeek(out var state, out var due) && due <= now)
        {
            _due.Dequeue();
            state.Queued = false;
            if (state.Pending is not { } pending)
                continue;
            state.Pending = null;
            state.NextSlot = now + _intervalTicks;
            Deliver(state, pending, batch);
        }
    }

    /// <summary>What the shared buffer holds, up to the batch size.</summary>
    private void ReadLive(List<Reading> batch)
    {
        var reader = _buffer.Reader;
        while (batch.Count < _maxBatchSize && reader.TryRead(out var reading))
        {
            // A sensor let go (removed) may still have readings in the buffer; so may an earlier sensor of the same id.
            if (!_sensors.TryGetValue(reading.SensorId, out var state) || reading.Sequence < state.Next)
                continue;

            if (!Paced)
            {
                // The buffer dropped the oldest: a visible jump, counted, not filled from history (a many-sensor stream
                // sheds load). Only what came after the attach was this subscriber's to lose.
                var from = Math.Max(state.Next, state.ReplayEnd + 1);
                if (reading.Sequence > from)
                    state.Subscription.CountDropped(reading.Sequence - from);
                Deliver(state, reading, batch);
                continue;
            }

            state.Next = reading.Sequence + 1;
            var now = _time.GetTimestamp();
            if (state.Pending is null && now >= state.NextSlot)
            {
                state.NextSlot = now + _intervalTicks;
                Deliver(state, reading, batch);
                continue;
            }
            // Not its moment yet: the newest waits for the slot, replacing an older one (skipped on purpose, not counted).
            state.Pending = reading;
            if (!state.Queued)
            {
                state.Queued = true;
                _due.Enqueue(state, state.NextSlot);
            }
        }
    }

    private static void Deliver(SensorState state, Reading reading, List<Reading> batch)
    {
        state.Next = reading.Sequence + 1;
        state.Subscription.CountDelivered(1);
        batch.Add(reading);
    }

    /// <summary>
    /// Waits for the buffer, the watch, the earliest paced slot or the caller's cancellation, whichever comes first.
    /// The waits that did not end are kept for the next call, so an idle stream holds one of each.
    /// </summary>
    private async ValueTask WaitAsync()
    {
        if (_bufferWait is null)
        {
            var wait = _buffer.Reader.WaitToReadAsync(CancellationToken.None);
            if (wait.IsCompletedSuccessfully)
            {
                if (!wait.Result)
                    BeginEnd();
                return;
            }
            _bufferWait = wait.AsTask();
        }
        if (!_watchDone && _watchWait is null)
        {
            var wait = _watch!.Changes.WaitToReadAsync(CancellationToken.None);
            if (wait.IsCompletedSuccessfully)
            {
                if (!wait.Result)
                    WatchEnded(null);
                return;
            }
            _watchWait = wait.AsTask();
        }
        if (_due.TryPeek(out _, out var due))
        {
            var delay = _time.GetElapsedTime(_time.GetTimestamp(), due);
            if (delay <= TimeSpan.Zero)
                return;
            if (_slotWait is null || _slotWait.IsCompleted || due != _slotDue)
            {
                _slotDue = due;
                _slotWait = Task.Delay(delay, _time, _stop.Token);
            }
        }
        else
        {
            _slotWait = null;
        }

        Task[] waits = _slotWait is null
            ? _watchWait is null ? [_bufferWait, _cancelled.Task] : [_bufferWait, _watchWait, _cancelled.Task]
            : _watchWait is null ? [_bufferWait, _slotWait, _cancelled.Task] : [_bufferWait, _watchWait, _slotWait, _cancelled.Task];
        await Task.WhenAny(waits).ConfigureAwait(false);

        if (_bufferWait.IsCompleted)
        {
            var ended = _bufferWait;
            _bufferWait = null;
            if (ended.IsFaulted)
                Fail(ended.Exception.InnerException);
            else if (ended.IsCompletedSuccessfully && !ended.Result)
                BeginEnd();
        }
        if (_watchWait is { IsCompleted: true } watchEnded)
        {
            _watchWait = null;
            if (watchEnded.IsFaulted)
                WatchEnded(watchEnded.Exception.InnerException);
            else if (watchEnded.IsCompletedSuccessfully && !watchEnded.Result)
                WatchEnded(null);
        }
    }

    /// <summary>
    /// The watch ended: normally when the server stops (then the stream ends too, even one whose buffer no sensor
    /// completes because none matched), or with the loss of the backend.
    /// </summary>
    private void WatchEnded(Exception? error)
    {
        _watchDone = true;
        if (error is null)
            BeginEnd();
        else
            Fail(error);
    }

    private void Fail(Exception? error)
    {
        _failure ??= error ?? new SensorHubException(SensorHubErrors.BackendUnavailable, "The stream's backend failed.");
        BeginEnd();
    }

    private void BeginEnd()
    {
        _ending = true;
    }

    /// <summary>
    /// The end: what the buffer still holds, then every paced sensor's pending reading at once (rather than hold a
    /// server's stop up for as long as 1/maxRate), then nothing, or the failure that ended it.
    /// </summary>
    private bool End(List<Reading> batch)
    {
        ReadLive(batch);
        while (batch.Count < _maxBatchSize && _due.TryDequeue(out var state, out _))
        {
            state.Queued = false;
            if (state.Pending is { } pending)
            {
                state.Pending = null;
                Deliver(state, pending, batch);
            }
        }
        if (batch.Count > 0)
            return true;
        if (_failure is not null)
        {
            if (IsBackendLoss(_failure))
                Interrupted = true;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
        }
        return false;
    }

    /// <summary>One sensor's place in the stream.</summary>
    private sealed class SensorState(string id, IFeedSubscription subscription)
    {
        public string Id { get; } = id;

        public IFeedSubscription Subscription { get; } = subscription;

        /// <summary>Where its live readings begin: everything up to it was in history when it attached.</summary>
        public long ReplayEnd { get; } = subscription.AttachedAfter;

        /// <summary>The next sequence to deliver; anything below is a duplicate (or an earlier sensor of the same id).</summary>
        public long Next { get; set; } = subscription.AttachedAfter + 1;

        /// <summary>Whether it is in the replay queue.</summary>
        public bool Replaying { get; set; }

        /// <summary>Whether it was let go: its entries in the queues are passed over.</summary>
        public bool Removed { get; set; }

        /// <summary>Paced: the newest reading waiting for its slot.</summary>
        public Reading? Pending { get; set; }

        /// <summary>Paced: the timestamp (<see cref="TimeProvider.GetTimestamp"/>) from which its next reading may go.</summary>
        public long NextSlot { get; set; }

        /// <summary>Paced: whether it is in the due queue.</summary>
        public bool Queued { get; set; }
    }
}
