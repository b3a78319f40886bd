using System.Text.Json;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Sessions;

/// <summary>
/// A session as one node follows it for its local members: one subscription to the session's channel, the sequence
/// of the last event delivered here, and the members on this node. Events are delivered in sequence order, each
/// once: one that arrives after a jump waits until the missing ones are read from the session's event stream; the
/// store's periodic position check does the same for a channel that went quiet.
/// </summary>
/// <remarks>
/// <see cref="Gate"/> orders everything that changes what is delivered: the handling of each event, the catch-ups,
/// the joins (whose script runs while it is held, so that no event is delivered here between the snapshot's
/// sequence and the member's start) and the closing of the subscription. The members list has a lock of its own
/// for what must not wait (the server's stop, a lost Redis).
/// <para>
/// Participants are counted (<see cref="SessionMetrics.ParticipantsActiveInstrument"/>) by exactly one node each: the
/// node of the user's stream with the smallest member id in the session's members in Redis. Each node recounts the
/// users it holds from that hash after its own joins and leaves and at every position check (another node's stream
/// that ends hands its users on), and gives its count up when it stops following the session. The sum over the nodes
/// is then the cluster's participants, a user with streams on several nodes counted once; a user held by a node that
/// died is counted again once the dead node's cleanup has taken its members out.
/// </para>
/// </remarks>
internal sealed class RedisLocalSession
{
    private const int CatchUpPage = 500;

    private readonly RedisSessionStore _store;
    private readonly Lock _sync = new();
    private readonly List<RedisSessionMember> _members = [];
    private readonly Lazy<Task<ChannelMessageQueue>> _subscription;
    private long _position = -1;
    private bool _closed;
    // The participants this node counts in the session now: changed under _sync.
    private long _held;

    public RedisLocalSession(RedisSessionStore store, string id)
    {
        _store = store;
        Id = id;
        // Subscribed on first use: a local session that lost the race to be added is never used, and never subscribes.
        _subscription = new(SubscribeAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Id { get; }

    /// <summary>Held to deliver, catch up, join, or close.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Held to count the participants again: one recount at a time, so that an older read of the members never lands after a newer one.</summary>
    private SemaphoreSlim Recounting { get; } = new(1, 1);

    /// <summary>Completes once Redis confirmed the subscription to the session's channel.</summary>
    public Task Subscribed => _subscription.Value;

    /// <summary>The sequence of the last event delivered here; -1 before the first join. Read under <see cref="Gate"/>.</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>Whether the node stopped following the session: a join then starts a new one. Under <see cref="Gate"/>.</summary>
    public bool Closed => _closed;

    public int MemberCount
    {
        get
        {
            lock (_sync)
                return _members.Count;
        }
    }

    /// <summary>A joined member's start; the first one sets where delivery begins. Under <see cref="Gate"/>.</summary>
    public void Add(RedisSessionMember member)
    {
        if (_position < 0)
            Volatile.Write(ref _position, member.Start);
        lock (_sync)
            _members.Add(member);
    }

    /// <summary>A member's stream ended: it leaves the list, and the node stops following a session without members.</summary>
    public async Task RemoveAsync(RedisSessionMember member)
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_sync)
                _members.Remove(member);
            CloseIfEmpty();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Stops following the session when no member is left. Under <see cref="Gate"/>.</summary>
    public void CloseIfEmpty()
    {
        lock (_sync)
        {
            if (_closed || _members.Count > 0)
                return;
            _closed = true;
            _store.Metrics.ParticipantsChanged(-_held);
            _held = 0;
        }
        _store.Forget(this);
        _ = UnsubscribeAsync();
    }

    /// <summary>Completes every member's stream, with <paramref name="error"/> if given (the server stops, Redis is lost).</summary>
    public void CompleteAll(Exception? error)
    {
        lock (_sync)
        {
            foreach (var member in _members)
                member.Complete(error);
        }
    }

    /// <summary>Delivers what the session's event stream holds after <see cref="Position"/>, up to <paramref name="upTo"/> (null: all). Under <see cref="Gate"/>.</summary>
    public async Task CatchUpAsync(long? upTo)
    {
        while (!_closed)
        {
            var from = _position + 1;
            if (upTo is { } last && from > last)
                return;
            var entries = await _store.Redis.Database.StreamRangeAsync(
                _store.EventsKey(Id), $"{from}-0", upTo is { } to ? $"{to}-0" : "+", CatchUpPage).ConfigureAwait(false);
            foreach (var entry in entries)
                Apply(RedisSessionEvent.Parse(entry.Values[0].Value.ToString()));
            if (entries.Length == CatchUpPage)
                continue;
            if (upTo is { } end && _position < end)
            {
                // Trimmed away, or gone with the session: what is missing cannot be sent.
                Missed(_position + 1, end);
                Volatile.Write(ref _position, end);
            }
            return;
        }
    }

    /// <summary>
    /// Checks the session's sequence in Redis against what was delivered here, and catches up (a pub/sub message that
    /// never came). A session whose state is gone (ended long ago) ends the streams still here.
    /// </summary>
    public async Task CheckAsync()
    {
        if (Position < 0 || _closed)
            return;
        var sequence = await _store.Redis.Database.StringGetAsync(_store.SequenceKey(Id)).ConfigureAwait(false);
        if (sequence.HasValue && (long)sequence <= Position)
            return;
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed)
                return;
            if (sequence.HasValue)
            {
                await CatchUpAsync(null).ConfigureAwait(false);
                return;
            }
            CompleteAll(null);
            lock (_sync)
                _members.Clear();
            CloseIfEmpty();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Counts again the participants this node holds in the session (see the remarks), from the session's members in
    /// Redis. Never throws: a count that fails is made again at the next position check.
    /// </summary>
    public async Task RecountAsync()
    {
        await Recounting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed)
                return;
            var members = await _store.Redis.Database.HashGetAllAsync(_store.MembersKey(Id)).ConfigureAwait(false);
            var held = HeldBy(members, _store.Redis.NodeId);
            lock (_sync)
            {
                if (_closed)
                    return;
                _store.Metrics.ParticipantsChanged(held - _held);
                _held = held;
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException or JsonException)
        {
            // Counted again at the next position check.
        }
        finally
        {
            Recounting.Release();
        }
    }

    /// <summary>The users whose stream with the smallest member id is on <paramref name="nodeId"/>.</summary>
    private static long HeldBy(HashEntry[] members, string nodeId)
    {
        var holders = new Dictionary<string, (string MemberId, string NodeId)>(StringComparer.Ordinal);
        foreach (var entry in members)
        {
            // A member's record: [node, user, prefixes].
            if (JsonSerializer.Deserialize(entry.Value.ToString(), RedisSessionJson.Default.StringArray) is not [var node, var user, ..])
                continue;
            var memberId = entry.Name.ToString();
            if (!holders.TryGetValue(user, out var holder) || string.CompareOrdinal(memberId, holder.MemberId) < 0)
                holders[user] = (memberId, node);
        }
        return holders.Values.Count(holder => holder.NodeId == nodeId);
    }

    private async Task<ChannelMessageQueue> SubscribeAsync()
    {
        var queue = await _store.Redis.Subscriber.SubscribeAsync(_store.ChannelOf(Id)).ConfigureAwait(false);
        // One handler at a time, in the channel's order.
        queue.OnMessage(OnMessageAsync);
        return queue;
    }

    private async Task UnsubscribeAsync()
    {
        if (!_subscription.IsValueCreated)
            return;
        try
        {
            var queue = await _subscription.Value.ConfigureAwait(false);
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Subscribing failed, or Redis is gone (its subscriptions with it).
        }
    }

    private async Task OnMessageAsync(ChannelMessage message)
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed || _position < 0)
                return;
            var sessionEvent = RedisSessionEvent.Parse(message.Message.ToString());
            if (sessionEvent.Sequence <= _position)
                return;
            if (sessionEvent.Sequence > _position + 1)
                await CatchUpAsync(sessionEvent.Sequence - 1).ConfigureAwait(false);
            Apply(sessionEvent);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            RedisSessionsLog.CatchUpFailed(_store.Logger, Id, e.Message);
        }
        catch (Exception e)
        {
            RedisSessionsLog.EventFailed(_store.Logger, Id, e);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Delivers the next event to the members that started before it. Under <see cref="Gate"/>.</summary>
    private void Apply(RedisSessionEvent next)
    {
        if (next.Sequence <= _position)
            return;
        if (next.Sequence > _position + 1)
            Missed(_position + 1, next.Sequence - 1);
        Volatile.Write(ref _position, next.Sequence);
        var sessionEvent = next.Event;
        var ended = sessionEvent.Kind == SessionEventKinds.Ended;
        lock (_sync)
        {
            for (var i = _members.Count - 1; i >= 0; i--)
            {
                var member = _members[i];
                if (member.IsCompleted || member.Start >= next.Sequence)
                    continue;
                if (next.Evicted.Contains(member.MemberId))
                {
                    // Taken out of the session by the script already; its stream ends as if the session were unknown.
                    _members.RemoveAt(i);
                    member.Complete(SessionException.Unknown(Id));
                    SessionsLog.Evicted(_store.Logger, member.User.Name, member.User.Id, Id);
                    continue;
                }
                if (sessionEvent.Annotation is { } annotation && !member.User.MayRead(annotation))
                    continue;
                if (member.TryWrite(sessionEvent))
                    continue;
                _members.RemoveAt(i);
                member.Complete(SessionException.FellBehind(Id, _store.Options.EventBufferCapacity));
                SessionsLog.FellBehind(_store.Logger, member.User.Name, Id, _store.Options.EventBufferCapacity);
            }
            if (ended)
            {
                foreach (var member in _members)
                    member.Complete();
                _members.Clear();
            }
        }
        if (ended)
            CloseIfEmpty();
    }

    private void Missed(long from, long to)
    {
        int count;
        lock (_sync)
        {
            count = _members.Count;
            foreach (var member in _members)
                member.Complete(SessionException.Missed(Id));
            _members.Clear();
        }
        RedisSessionsLog.Missed(_store.Logger, Id, from, to, count);
    }
}
