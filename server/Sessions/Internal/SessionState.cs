using SensorHub.Contracts;

namespace SensorHub.Server.Sessions.Internal;

/// <summary>
/// One open session in memory. Everything that changes it, and every write to its members' buffers, happens under its
/// lock: that is what gives a joiner's snapshot and the events after it no gap and no duplicate, and every member the
/// same order of events.
/// </summary>
internal sealed class SessionState(StoredSession stored, LiveSessionOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>Past this many remembered rate buckets, the full ones (idle long enough to be back at capacity) are forgotten.</summary>
    private const int RateBucketsBeforePruning = 256;

    private readonly Lock _gate = new();
    private readonly List<SessionMember> _members = [];
    private readonly Dictionary<string, int> _presence = new(StringComparer.Ordinal);
    private readonly Queue<Annotation> _recent = new();
    private readonly Dictionary<string, RateBucket> _rates = new(StringComparer.Ordinal);
    private StoredSession _stored = stored;
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

    /// <summary>The participants now, by name (for tests and counters).</summary>
    public Participant[] Participants
    {
        get
        {
            lock (_gate)
                return ParticipantsNow();
        }
    }

    public SessionMember? Join(string user)
    {
        lock (_gate)
        {
            if (_ended)
                return null;
            _presence.TryGetValue(user, out var connections);
            if (connections == 0 && _presence.Count >= options.MaxParticipantsPerSession)
                throw SessionException.Full(Id, options.MaxParticipantsPerSession);
            _presence[user] = connections + 1;
            // Announced before the joiner is a member: its own arrival is in its snapshot, not also in an event.
            if (connections == 0)
                Broadcast(new SessionEvent { Kind = SessionEventKinds.Joined, Participant = new Participant { Name = user, Connections = 1 } });

            var member = new SessionMember(this, user, options.EventBufferCapacity);
            member.TryWrite(new SessionEvent
            {
                Kind = SessionEventKinds.Snapshot,
                Session = _stored.Info,
                Participants = ParticipantsNow(),
                Annotations = [.. _recent],
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
            if (_ended || !_presence.TryGetValue(member.User, out var connections))
                return;
            if (connections > 1)
            {
                _presence[member.User] = connections - 1;
                return;
            }
            _presence.Remove(member.User);
            Broadcast(new SessionEvent { Kind = SessionEventKinds.Left, Participant = new Participant { Name = member.User, Connections = 0 } });
        }
    }

    public bool Annotate(Annotation annotation)
    {
        lock (_gate)
        {
            if (_ended)
                return false;
            // Checked here too, not only by the service: the sensors may have changed since it looked.
            if (annotation.SensorId is { } sensorId && Array.IndexOf(_stored.Info.SensorIds, sensorId) < 0)
                throw SessionException.SensorNotInSession(sensorId, Id);
            if (!RateOf(annotation.Author).TryTake())
                throw SessionException.TooManyAnnotations(options.AnnotationRateLimit, options.AnnotationRatePeriod);

            if (options.RecentAnnotations > 0)
            {
                _recent.Enqueue(annotation);
                while (_recent.Count > options.RecentAnnotations)
                    _recent.Dequeue();
            }
            Broadcast(new SessionEvent { Kind = SessionEventKinds.Annotated, Annotation = annotation });
            return true;
        }
    }

    public StoredSession? SetSensors(string[] sensorIds)
    {
        lock (_gate)
        {
            if (_ended)
                return null;
            var stored = _stored with { Info = _stored.Info with { SensorIds = sensorIds } };
            Volatile.Write(ref _stored, stored);
            Broadcast(new SessionEvent { Kind = SessionEventKinds.SensorsChanged, SensorIds = sensorIds });
            return stored;
        }
    }

    /// <summary>Every member gets <c>ended</c>, then its stream completes; the state is let go.</summary>
    public void End()
    {
        lock (_gate)
        {
            if (_ended)
                return;
            Broadcast(new SessionEvent { Kind = SessionEventKinds.Ended });
            _ended = true;
            foreach (var member in _members)
                member.Complete();
            _members.Clear();
            _presence.Clear();
            _recent.Clear();
            _rates.Clear();
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

    private Participant[] ParticipantsNow() =>
        _presence.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new Participant { Name = p.Key, Connections = p.Value }).ToArray();

    private RateBucket RateOf(string user)
    {
        if (_rates.TryGetValue(user, out var bucket))
            return bucket;
        if (_rates.Count >= RateBucketsBeforePruning)
        {
            foreach (var idle in _rates.Where(r => r.Value.IsFull).Select(r => r.Key).ToArray())
                _rates.Remove(idle);
        }
        return _rates[user] = new RateBucket(options.AnnotationRateLimit, options.AnnotationRatePeriod, time);
    }

    /// <summary>Offers an event to every member, under the lock. The others never wait for a slow one: a full buffer ends that stream.</summary>
    private void Broadcast(SessionEvent sessionEvent)
    {
        for (var i = _members.Count - 1; i >= 0; i--)
        {
            var member = _members[i];
            if (member.TryWrite(sessionEvent))
                continue;
            _members.RemoveAt(i);
            member.Complete(SessionException.FellBehind(Id, options.EventBufferCapacity));
            SessionsLog.FellBehind(logger, member.User, Id, options.EventBufferCapacity);
        }
    }
}
