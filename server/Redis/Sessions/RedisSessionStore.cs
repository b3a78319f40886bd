using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Redis.Nodes;
using SensorHub.Server.Sessions;
using SensorHub.Server.Shutdown;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Sessions;

/// <summary>
/// The session store shared by every node on one Redis. Each change of a session is one Lua script
/// (<see cref="RedisSessionScripts"/>): its checks and limits, the state, the session's event sequence, the event's
/// append to the session's event stream and its <c>PUBLISH</c>. Each node subscribes once to the channel of a session
/// that has members on it (<see cref="RedisLocalSession"/>) and hands the events to them in sequence order.
/// </summary>
/// <remarks>
/// Keys, under the prefix: <c>sessions</c> (set of open ids), <c>owner:{ownerId}</c> (set of the owner's open ids),
/// <c>session:{id}</c> (hash: info, invited, sensors, owner, empty = when the last participant left, in Redis ms),
/// <c>session:{id}:seq</c> (the event sequence), <c>session:{id}:events</c> (stream of events, id <c>{seq}-0</c>,
/// bounded), <c>session:{id}:presence</c> (user → streams), <c>session:{id}:names</c> (user → name),
/// <c>session:{id}:members</c> (member → [node, user, prefixes]), <c>session:{id}:recent</c> (list of annotations),
/// <c>session:{id}:rate</c> (author → token bucket), <c>node:{nodeId}:members</c> (set of <c>{sessionId}|{memberId}</c>,
/// what a dead node's cleanup takes out). Channel: <c>session:{id}:channel</c>.
/// </remarks>
internal sealed class RedisSessionStore : ISessionStore, IDeadNodeCleanup, IDisposable
{
    private readonly ConcurrentDictionary<string, RedisLocalSession> _locals = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string SessionId, string MemberId)> _pendingLeaves = new();
    private readonly RedisAvailability _availability;
    private readonly ShutdownSignal _shutdown;
    private readonly CancellationTokenRegistration _onStopping;

    public RedisSessionStore(
        RedisConnection redis,
        RedisAvailability availability,
        IOptions<LiveSessionOptions> options,
        ShutdownSignal shutdown,
        ILogger<RedisSessionStore> logger,
        SessionMetrics metrics)
    {
        Redis = redis;
        Metrics = metrics;
        _availability = availability;
        Options = options.Value;
        _shutdown = shutdown;
        Logger = logger;
        // As the in-memory store: the streams complete when the server begins to stop, without 'ended'; each then
        // leaves as it ends, so the other nodes see its user go.
        _onStopping = shutdown.Stopping.Register(() => CompleteAll(null));
    }

    public RedisConnection Redis { get; }

    public LiveSessionOptions Options { get; }

    public ILogger Logger { get; }

    /// <summary>
    /// Where this node counts the events its scripts publish (once each, here, not on every node that delivers them)
    /// and the participants it holds (<see cref="RedisLocalSession.RecountAsync"/>).
    /// </summary>
    public SessionMetrics Metrics { get; }

    /// <summary>The sessions this node follows now (for tests).</summary>
    public IReadOnlyCollection<string> LocalSessionIds => _locals.Keys.ToArray();

    /// <summary>How many events a session's event stream keeps (about): enough for a node to catch up a member's buffer.</summary>
    private long StreamBound => Math.Max(1_000, Options.EventBufferCapacity);

    public RedisKey SessionKey(string id) => Redis.Key("session:" + id);

    public RedisKey EventsKey(string id) => Redis.Key("session:" + id + ":events");

    public RedisKey SequenceKey(string id) => Redis.Key("session:" + id + ":seq");

    /// <summary>The session's members: member id → [node, user, prefixes].</summary>
    public RedisKey MembersKey(string id) => Redis.Key("session:" + id + ":members");

    public RedisChannel ChannelOf(string id) => Redis.Channel("session:" + id + ":channel");

    public async Task AddAsync(StoredSession session, CancellationToken cancellationToken)
    {
        var info = session.Info;
        var added = await RunAsync(RedisSessionScripts.Add, info.Id,
            info.OwnerId,
            JsonSerializer.Serialize(info, RedisSessionJson.Default.SessionInfo),
            JsonSerializer.Serialize(session.Invited.ToArray(), RedisSessionJson.Default.StringArray),
            JsonSerializer.Serialize(info.SensorIds, RedisSessionJson.Default.StringArray),
            Options.MaxOpenSessionsPerUser).ConfigureAwait(false);
        if ((long)added == 0)
            throw SessionException.TooManyOpen(Options.MaxOpenSessionsPerUser);
    }

    public async Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken)
    {
        _availability.ThrowIfUnavailable();
        try
        {
            return await ReadAsync(Redis.Database, sessionId).ConfigureAwait(false);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw _availability.Failed(e);
        }
    }

    public async Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken)
    {
        _availability.ThrowIfUnavailable();
        try
        {
            var db = Redis.Database;
            var ids = await db.SetMembersAsync(Redis.Key("sessions")).ConfigureAwait(false);
            var sessions = await Task.WhenAll(ids.Select(id => ReadAsync(db, id.ToString()))).ConfigureAwait(false);
            return sessions.OfType<StoredSession>().ToArray();
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw _availability.Failed(e);
        }
    }

    public async Task<ISessionMembership?> JoinAsync(string sessionId, SessionUser joiner, CancellationToken cancellationToken)
    {
        _availability.ThrowIfUnavailable();
        var memberId = ServerIds.New();
        while (true)
        {
            var local = _locals.GetOrAdd(sessionId, id => new RedisLocalSession(this, id));
            try
            {
                // Subscribed (and confirmed) before the snapshot is read: every event after it arrives on the channel
                // or is in the event stream when the node looks.
                await local.Subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
                await local.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsRedisFailure(e) || e is OperationCanceledException)
            {
                // Not left following a session that no member of this node is in.
                await CloseIfEmptyAsync(local).ConfigureAwait(false);
                if (e is OperationCanceledException)
                    throw;
                throw _availability.Failed(e);
            }
            try
            {
                if (local.Closed)
                    continue;
                return await JoinUnderGateAsync(local, memberId, joiner).ConfigureAwait(false);
            }
            finally
            {
                local.Gate.Release();
            }
        }
    }

    public async Task<bool> AnnotateAsync(string sessionId, SessionUser author, Annotation annotation, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await RunAsync(RedisSessionScripts.Annotate, sessionId,
            author.Id,
            PrefixesOf(author),
            JsonSerializer.Serialize(annotation, RedisSessionJson.Default.Annotation),
            annotation.SensorId ?? "",
            Options.AnnotationRateLimit,
            (long)Math.Max(1, Options.AnnotationRatePeriod.TotalMilliseconds),
            Options.RecentAnnotations).ConfigureAwait(false))!;
        switch ((string?)result[0])
        {
            case "ok":
                Metrics.Published(SessionEventKinds.Annotated);
                return true;
            case "sensor":
                throw SessionException.SensorNotInSession(annotation.SensorId!, sessionId);
            case "rate":
                var wait = TimeSpan.FromMilliseconds(long.Parse((string)result[1]!, CultureInfo.InvariantCulture));
                throw SessionException.TooManyAnnotations(Options.AnnotationRateLimit, Options.AnnotationRatePeriod, wait);
            default:
                return false;
        }
    }

    public async Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await RunAsync(RedisSessionScripts.SetSensors, sessionId,
            JsonSerializer.Serialize(sensorIds, RedisSessionJson.Default.StringArray)).ConfigureAwait(false))!;
        if ((string?)result[0] != "ok")
            return null;
        Metrics.Published(SessionEventKinds.SensorsChanged);
        Metrics.Published(SessionEventKinds.Left, (long)result[3]);
        return Stored((string)result[1]!, (string)result[2]!, sensorIds);
    }

    public async Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await RunAsync(RedisSessionScripts.End, sessionId, "0", 0).ConfigureAwait(false))!;
        if ((string?)result[0] != "ok")
            return false;
        Metrics.Published(SessionEventKinds.Ended);
        return true;
    }

    public async Task<IReadOnlyList<StoredSession>> EndIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        _availability.ThrowIfUnavailable();
        var ids = await Redis.Database.SetMembersAsync(Redis.Key("sessions")).ConfigureAwait(false);
        var ended = new List<StoredSession>();
        foreach (var id in ids)
        {
            // Decided inside the script: of several nodes sweeping at once, one ends it; a join either came first or finds it gone.
            var result = (RedisResult[])(await RunAsync(RedisSessionScripts.End, id.ToString(), "1", (long)idleFor.TotalMilliseconds).ConfigureAwait(false))!;
            if ((string?)result[0] != "ok")
                continue;
            Metrics.Published(SessionEventKinds.Ended);
            ended.Add(Stored((string)result[1]!, (string)result[2]!, Deserialize((string)result[3]!)));
        }
        return ended;
    }

    /// <summary>A dead node's members leave their sessions (idempotent: each leaves once, whoever runs it).</summary>
    public async Task CleanUpAsync(string nodeId, CancellationToken cancellationToken)
    {
        var db = Redis.Database;
        var entries = await db.SetMembersAsync(Redis.Key("node:" + nodeId + ":members")).ConfigureAwait(false);
        foreach (var entry in entries)
        {
            var text = entry.ToString();
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar < 0)
                continue;
            var (sessionId, memberId) = (text[..bar], text[(bar + 1)..]);
            CountLeave(await db.ScriptEvaluateAsync(RedisSessionScripts.Leave, values: Args(sessionId, memberId)).ConfigureAwait(false));
            RedisSessionsLog.DeadMemberLeft(Logger, nodeId, memberId, sessionId);
        }
    }

    /// <summary>
    /// Every local session catches up with its sequence in Redis (the guard against a silent pub/sub stall), and the
    /// leaves that failed are tried again.
    /// </summary>
    public async Task CheckAsync()
    {
        if (Redis.IsKilled || !_availability.IsAvailable)
            return;
        try
        {
            while (_pendingLeaves.TryPeek(out var pending))
            {
                CountLeave(await Redis.Database.ScriptEvaluateAsync(RedisSessionScripts.Leave, values: Args(pending.SessionId, pending.MemberId)).ConfigureAwait(false));
                _pendingLeaves.TryDequeue(out _);
            }
            foreach (var local in _locals.Values)
            {
                await local.CheckAsync().ConfigureAwait(false);
                // Who holds a participant moves when another node's stream ends: this node hears of it here.
                await local.RecountAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            RedisSessionsLog.CheckFailed(Logger, e.Message);
        }
    }

    /// <summary>The others took this node for dead and made its members leave: its streams end, to join again.</summary>
    public void PresumedDead() =>
        CompleteAll(new SensorHubException(SensorHubErrors.BackendUnavailable,
            "This node lost touch with Redis for longer than the node timeout, and the others took its session members out. Join again."));

    /// <summary>A member's stream ended: it leaves the node's list, then the session in Redis (again later if that fails).</summary>
    public async Task LeaveAsync(RedisSessionMember member)
    {
        await member.Session.RemoveAsync(member).ConfigureAwait(false);
        if (Redis.IsKilled)
            return;
        try
        {
            CountLeave(await Redis.Database.ScriptEvaluateAsync(RedisSessionScripts.Leave, values: Args(member.Session.Id, member.MemberId)).ConfigureAwait(false));
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            RedisSessionsLog.LeaveFailed(Logger, member.Session.Id, e.Message);
            _pendingLeaves.Enqueue((member.Session.Id, member.MemberId));
        }
        // Not awaited: a stream's end never waits for the count (the position check recounts in any case).
        _ = member.Session.RecountAsync();
    }

    /// <summary>The participants of an open session now, by name and then id (for tests and counters).</summary>
    public async Task<Participant[]> ParticipantsAsync(string sessionId)
    {
        var db = Redis.Database;
        var presence = db.HashGetAllAsync(Redis.Key("session:" + sessionId + ":presence"));
        var names = await db.HashGetAllAsync(Redis.Key("session:" + sessionId + ":names")).ConfigureAwait(false);
        return Participants(
            (await presence.ConfigureAwait(false)).SelectMany(e => new[] { RedisResult.Create(e.Name), RedisResult.Create(e.Value) }).ToArray(),
            names.SelectMany(e => new[] { RedisResult.Create(e.Name), RedisResult.Create(e.Value) }).ToArray());
    }

    /// <summary>The Leave script's answer: 2 when the member's user left, and the script published <c>left</c>.</summary>
    private void CountLeave(RedisResult result)
    {
        if ((long)result == 2)
            Metrics.Published(SessionEventKinds.Left);
    }

    /// <summary>A local session stopped following its session.</summary>
    public void Forget(RedisLocalSession local) => _locals.TryRemove(KeyValuePair.Create(local.Id, local));

    public void Dispose() => _onStopping.Dispose();

    private async Task<ISessionMembership?> JoinUnderGateAsync(RedisLocalSession local, string memberId, SessionUser joiner)
    {
        RedisResult[] result;
        try
        {
            _availability.ThrowIfUnavailable();
            result = (RedisResult[])(await Redis.Database.ScriptEvaluateAsync(RedisSessionScripts.Join, values: Args(local.Id,
                memberId, joiner.Id, joiner.Name, PrefixesOf(joiner), Redis.NodeId, Options.MaxParticipantsPerSession)).ConfigureAwait(false))!;
        }
        catch (Exception e) when (IsRedisFailure(e) || e is SensorHubException)
        {
            local.CloseIfEmpty();
            // The script may have run and its answer been lost: the member leaves again, if it ever joined.
            if (e is not SensorHubException)
                _pendingLeaves.Enqueue((local.Id, memberId));
            throw e as SensorHubException ?? _availability.Failed(e);
        }
        var status = (string?)result[0];
        if (status != "ok")
        {
            local.CloseIfEmpty();
            return status == "full" ? throw SessionException.Full(local.Id, Options.MaxParticipantsPerSession) : null;
        }
        var start = long.Parse((string)result[1]!, CultureInfo.InvariantCulture);
        var participants = Participants((RedisResult[])result[4]!, (RedisResult[])result[5]!);
        // The script published 'joined' when this stream made its user present: one stream of theirs, this one.
        if (participants.Any(p => p.Id == joiner.Id && p.Connections == 1))
            Metrics.Published(SessionEventKinds.Joined);
        var info = JsonSerializer.Deserialize((string)result[2]!, RedisSessionJson.Default.SessionInfo)! with { SensorIds = Deserialize((string)result[3]!) };
        var member = new RedisSessionMember(this, local, memberId, joiner, start, Options.EventBufferCapacity);
        member.TryWrite(new SessionEvent
        {
            Kind = SessionEventKinds.Snapshot,
            Session = info,
            Participants = participants,
            Annotations = ((RedisResult[])result[6]!)
                .Select(a => JsonSerializer.Deserialize((string)a!, RedisSessionJson.Default.Annotation)!)
                .Where(joiner.MayRead)
                .ToArray(),
        });
        local.Add(member);
        // Not awaited: the joiner need not wait for the count (the position check recounts in any case).
        _ = local.RecountAsync();
        // After the server began to stop, or once Redis is lost, a join still gets its snapshot, then its stream ends.
        if (_shutdown.IsStopping)
            member.Complete();
        member.LostRegistration = _availability.Lost.Register(static state =>
        {
            var (member, availability) = ((RedisSessionMember, RedisAvailability))state!;
            member.Complete(availability.Unavailable());
        }, (member, _availability));
        return member;
    }

    private static Participant[] Participants(RedisResult[] presence, RedisResult[] names)
    {
        var nameOf = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < names.Length; i += 2)
            nameOf[(string)names[i]!] = (string)names[i + 1]!;
        var participants = new List<Participant>();
        for (var i = 0; i + 1 < presence.Length; i += 2)
        {
            var id = (string)presence[i]!;
            participants.Add(new Participant
            {
                Id = id,
                Name = nameOf.GetValueOrDefault(id, ""),
                Connections = int.Parse((string)presence[i + 1]!, CultureInfo.InvariantCulture),
            });
        }
        return participants
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .ToArray();
    }

    private static async Task CloseIfEmptyAsync(RedisLocalSession local)
    {
        await local.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            local.CloseIfEmpty();
        }
        finally
        {
            local.Gate.Release();
        }
    }

    private void CompleteAll(Exception? error)
    {
        foreach (var local in _locals.Values)
            local.CompleteAll(error);
    }

    private async Task<StoredSession?> ReadAsync(IDatabase db, string id)
    {
        var fields = await db.HashGetAsync(SessionKey(id), ["info", "invited", "sensors"]).ConfigureAwait(false);
        if (fields[0].IsNull || fields[1].IsNull || fields[2].IsNull)
            return null;
        return Stored(fields[0].ToString(), fields[1].ToString(), Deserialize(fields[2].ToString()));
    }

    private static StoredSession Stored(string info, string invited, string[] sensorIds) =>
        new(JsonSerializer.Deserialize(info, RedisSessionJson.Default.SessionInfo)! with { SensorIds = sensorIds }, Deserialize(invited));

    private static string[] Deserialize(string json) => JsonSerializer.Deserialize(json, RedisSessionJson.Default.StringArray) ?? [];

    private static string PrefixesOf(SessionUser user) =>
        user.SensorPrefixes is { } prefixes ? JsonSerializer.Serialize(prefixes.ToArray(), RedisSessionJson.Default.StringArray) : "";

    private RedisValue[] Args(string sessionId, params RedisValue[] more) => [Redis.Prefix, sessionId, StreamBound, .. more];

    private async Task<RedisResult> RunAsync(string script, string sessionId, params RedisValue[] more)
    {
        _availability.ThrowIfUnavailable();
        try
        {
            return await Redis.Database.ScriptEvaluateAsync(script, values: Args(sessionId, more)).ConfigureAwait(false);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw _availability.Failed(e);
        }
    }

    private static bool IsRedisFailure(Exception e) => e is RedisException or TimeoutException or ObjectDisposedException;
}
