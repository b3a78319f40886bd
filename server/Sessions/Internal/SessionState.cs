using SensorHub.Contracts;

namespace SensorHub.Server.Sessions.Internal;

/// <summary>
/// One open session in memory. Everything that changes it, and every write to its members' buffers, happens under its
/// lock: that is what gives a joiner's snapshot and the events after it no gap and no duplicate, and every member the
/// same order of events. It also keeps, under the lock, that every member may read every one of the session's sensors:
/// a join is refused, and a member evicted by a change of sensors, where that would not hold.
/// </summary>
internal sealed class SessionState(StoredSession stored, LiveSessionOptions options, TimeProvider time, ILogger logger, SessionMetrics? metrics = null)
{
    /// <summary>Past this many remembered rate buckets, the full ones (idle long enough to be back at capacity) are forgotten.</summary>
    private const int RateBucketsBeforePruning = 256;

    private readonly Lock _gate = new();
    private readonly List<SessionMember> _members = [];
    // Keyed by the participant's id (SessionUser.Id), never by the name shown.
    private readonly Dictionary<string, Presence> _presence = new(StringComparer.Ordinal);
    private readonly Queue<Annotation> _recent = new();
    private readonly Dictionary<string, RateBucket> _rates = new(StringComparer.Ordinal);
    private StoredSession _stored = stored;
    // When the last participant left, or the session was created; meaningful only while nobody is present.
    private long _emptySince = time.GetTimestamp();
    private bool _ended;
    private bool _stopped;

    public string Id => _stored.Info.Id;

    public StoredSession Stored => Volatile.Read(ref _stored);

    /// <summary>Streams joined now (for tests and counters).</summary>
    public int MemberCount
    {
        get
        {
            lock (_gate)
                return _members.Count;
        }
    }

    /// <summary>The participants now, by name and then id (for tests and counters).</summary>
    public Participant[] Participants
    {
        get
        {
            lock (_gate)
                return ParticipantsNow();
        }
    }

    /// <summary>
    /// Joins a stream of <paramref name="user"/>; <see langword="null"/> when the session has ended or the user may not
    /// read every one of its sensors now (the service looked before, and the sensors may have changed since).
    /// </summary>
    public SessionMember? Join(SessionUser user)
    {
        lock (_gate)
        {
            if (_ended || !user.MayReadAll(_stored.Info.SensorIds))
                return null;
            _presence.TryGetValue(user.Id, out var presence);
            if (presence.Connections == 0 && _presence.Count >= options.MaxParticipantsPerSession)
                throw SessionException.Full(Id, options.MaxParticipantsPerSession);
            presence = presence.Connections == 0 ? new Presence(user.Name, 1) : presence with { Connections = presence.Connections + 1 };
            _presence[user.Id] = presence;
            if (presence.Connections == 1)
                metrics?.ParticipantsChanged(1);
            // Announced before the joiner is a member: its own arrival is in its snapshot, not also in an event.
            if (presence.Connections == 1)
                Broadcast(new SessionEvent { Kind = SessionEventKinds.Joined, Participant = ParticipantOf(user.Id, presence) });

            var member = new SessionMember(this, user, options.EventBufferCapacity);
            member.TryWrite(new SessionEvent
            {
                Kind = SessionEventKinds.Snapshot,
                Session = _stored.Info,
                Participants = ParticipantsNow(),
                // An annotation's sensor may have left the session since: only what the joiner may read.
                Annotations = _recent.Where(user.MayRead).ToArray(),
            });
            // After the server began to stop, a join still gets its snapshot, and then its stream completes.
            if (_stopped)
                member.Complete();
            else
                _members.Add(member);
            return member;
        }
    }

    /// <summary>A member's stream ended: the user leaves when it was their last.</summary>
    public void Leave(SessionMember member)
    {
        lock (_gate)
        {
            _members.Remove(member);
            if (_ended || member.PresenceReleased)
                return;
            ReleasePresence(member);
        }
    }

    /// <summary>
    /// Keeps and sends an annotation; <see langword="false"/> when the session has ended or <paramref name="author"/>
    /// may not read every one of its sensors now (it is unknown to them).
    /// </summary>
    public bool Annotate(SessionUser author, Annotation annotation)
    {
        lock (_gate)
        {
            if (_ended || !author.MayReadAll(_stored.Info.SensorIds))
                return false;
            // Checked here too, not only by the service: the sensors may have changed since it looked.
            if (annotation.SensorId is { } sensorId && Array.IndexOf(_stored.Info.SensorIds, sensorId) < 0)
                throw SessionException.SensorNotInSession(sensorId, Id);
            var rate = RateOf(author.Id);
            if (!rate.TryTake())
                throw SessionException.TooManyAnnotations(options.AnnotationRateLimit, options.AnnotationRatePeriod, rate.UntilNext);

            if (options.RecentAnnotations > 0)
            {
                _recent.Enqueue(annotation);
                while (_recent.Count > options.RecentAnnotations)
                    _recent.Dequeue();
            }
            // Every member may read every sensor of the session (joins and evictions keep it so), and the annotation's
            // sensor is one of them now; the filter states the rule where the events go out all the same.
            Broadcast(new SessionEvent { Kind = SessionEventKinds.Annotated, Annotation = annotation }, member => member.User.MayRead(annotation));
            return true;
        }
    }

    /// <summary>
    /// Replaces the sensors. Members who may not read them all are evicted first: their streams end as if the session
    /// were unknown to them, so the new sensor ids never reach them; then the others get <c>sensorsChanged</c>, and
    /// <c>left</c> for each evicted user who has no stream left.
    /// </summary>
    public StoredSession? SetSensors(string[] sensorIds)
    {
        lock (_gate)
        {
            if (_ended)
                return null;
            var stored = _stored with { Info = _stored.Info with { SensorIds = sensorIds } };
            Volatile.Write(ref _stored, stored);

            List<SessionMember>? evicted = null;
            for (var i = _members.Count - 1; i >= 0; i--)
            {
                var member = _members[i];
                if (member.User.MayReadAll(sensorIds))
                    continue;
                _members.RemoveAt(i);
                member.Complete(SessionException.Unknown(Id));
                (evicted ??= []).Add(member);
            }
            Broadcast(new SessionEvent { Kind = SessionEventKinds.SensorsChanged, SensorIds = sensorIds });
            foreach (var member in evicted ?? [])
            {
                ReleasePresence(member);
                SessionsLog.Evicted(logger, member.User.Name, member.User.Id, Id);
            }
            return stored;
        }
    }

    /// <summary>Every member gets <c>ended</c>, then its stream completes; the state is let go.</summary>
    public void End()
    {
        lock (_gate)
            EndNow();
    }

    /// <summary>
    /// Ends the session if nobody has been present for at least <paramref name="idleFor"/> at <paramref name="now"/>
    /// (a <see cref="TimeProvider"/> timestamp). Under the lock, so a join either came first or finds it ended.
    /// </summary>
    public bool EndIfIdle(long now, TimeSpan idleFor)
    {
        lock (_gate)
        {
            if (_ended || _presence.Count > 0 || time.GetElapsedTime(_emptySince, now) < idleFor)
                return false;
            EndNow();
            return true;
        }
    }

    /// <summary>The server is stopping: every stream completes after what it has buffered, and so will later joins'.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            foreach (var member in _members)
                member.Complete();
            _members.Clear();
        }
    }

    private void EndNow()
    {
        if (_ended)
            return;
        Broadcast(new SessionEvent { Kind = SessionEventKinds.Ended });
        _ended = true;
        // Everyone present goes with the session, without a 'left' each.
        metrics?.ParticipantsChanged(-_presence.Count);
        foreach (var member in _members)
            member.Complete();
        _members.Clear();
        _presence.Clear();
        _recent.Clear();
        _rates.Clear();
    }

    /// <summary>Takes one stream out of its user's presence; the user leaves with their last. Under the lock.</summary>
    private void ReleasePresence(SessionMember member)
    {
        member.PresenceReleased = true;
        var id = member.User.Id;
        if (!_presence.TryGetValue(id, out var presence))
            return;
        if (presence.Connections > 1)
        {
            _presence[id] = presence with { Connections = presence.Connections - 1 };
            return;
        }
        _presence.Remove(id);
        metrics?.ParticipantsChanged(-1);
        if (_presence.Count == 0)
            _emptySince = time.GetTimestamp();
        Broadcast(new SessionEvent { Kind = SessionEventKinds.Left, Participant = ParticipantOf(id, presence with { Connections = 0 }) });
    }

    private Participant[] ParticipantsNow() =>
        _presence
            .Select(p => ParticipantOf(p.Key, p.Value))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .ToArray();

    private static Participant ParticipantOf(string id, Presence presence) =>
        new() { Id = id, Name = presence.Name, Connections = presence.Connections };

    private RateBucket RateOf(string userId)
    {
        if (_rates.TryGetValue(userId, out var bucket))
            return bucket;
        if (_rates.Count >= RateBucketsBeforePruning)
        {
            foreach (var idle in _rates.Where(r => r.Value.IsFull).Select(r => r.Key).ToArray())
                _rates.Remove(idle);
        }
        return _rates[userId] = new RateBucket(options.AnnotationRateLimit, options.AnnotationRatePeriod, time);
    }

    /// <summary>
    /// Offers an event to every member (that <paramref name="to"/> admits), under the lock. The others never wait for a
    /// slow one: a full buffer ends that stream.
    /// </summary>
    private void Broadcast(SessionEvent sessionEvent, Func<SessionMember, bool>? to = null)
    {
        metrics?.Published(sessionEvent.Kind);
        for (var i = _members.Count - 1; i >= 0; i--)
        {
            var member = _members[i];
            if ((to is not null && !to(member)) || member.TryWrite(sessionEvent))
                continue;
            _members.RemoveAt(i);
            member.Complete(SessionException.FellBehind(Id, options.EventBufferCapacity));
            SessionsLog.FellBehind(logger, member.User.Name, Id, options.EventBufferCapacity);
        }
    }

    /// <summary>One participant's presence: the name shown (their first stream's) and their streams on the session.</summary>
    private readonly record struct Presence(string Name, int Connections);
}
