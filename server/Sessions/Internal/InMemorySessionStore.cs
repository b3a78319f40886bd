using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SensorHub.Server.Shutdown;

namespace SensorHub.Server.Sessions.Internal;

/// <summary>
/// The embedded session store: every open session in this process's memory. Every buffer in it is bounded: a session's
/// recent annotations by <see cref="LiveSessionOptions.RecentAnnotations"/>, a joined stream's events by
/// <see cref="LiveSessionOptions.EventBufferCapacity"/>. An ended session is removed at once.
/// </summary>
internal sealed class InMemorySessionStore : ISessionStore, IDisposable
{
    private readonly ConcurrentDictionary<string, SessionState> _sessions = new(StringComparer.Ordinal);
    // Guards the count of open sessions per owner together with adding and removing sessions, so the limit is exact.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _openByOwner = new(StringComparer.Ordinal);
    private readonly LiveSessionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<InMemorySessionStore> _logger;
    private readonly ShutdownSignal _shutdown;
    private readonly CancellationTokenRegistration _onStopping;
    private readonly SessionMetrics? _metrics;

    /// <param name="options">The sessions' settings.</param>
    /// <param name="time">The clock of idleness and annotation rates.</param>
    /// <param name="shutdown">Completes every joined stream when the server begins to stop.</param>
    /// <param name="logger">The store's log.</param>
    /// <param name="metrics">Where participants and events are counted; none in tests of the store alone.</param>
    public InMemorySessionStore(
        IOptions<LiveSessionOptions> options,
        TimeProvider time,
        ShutdownSignal shutdown,
        ILogger<InMemorySessionStore> logger,
        SessionMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _shutdown = shutdown;
        // Completing every joined stream when the server begins to stop lets each generator send what it buffered and
        // end normally, before SignalR closes the connections.
        _onStopping = shutdown.Stopping.Register(StopAll);
    }

    /// <summary>Open sessions now.</summary>
    public int Count => _sessions.Count;

    public Task AddAsync(StoredSession session, CancellationToken cancellationToken)
    {
        // Counted by the owner's id (the token's subject), never by the name shown: two users may share a name.
        var owner = session.Info.OwnerId;
        var state = new SessionState(session, _options, _time, _logger, _metrics);
        lock (_gate)
        {
            _openByOwner.TryGetValue(owner, out var open);
            if (open >= _options.MaxOpenSessionsPerUser)
                throw SessionException.TooManyOpen(_options.MaxOpenSessionsPerUser);
            if (!_sessions.TryAdd(session.Info.Id, state))
                throw new InvalidOperationException($"Session id '{session.Info.Id}' is taken.");
            _openByOwner[owner] = open + 1;
        }
        if (_shutdown.IsStopping)
            state.Stop();
        return Task.CompletedTask;
    }

    public Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.TryGetValue(sessionId, out var state) ? state.Stored : null);

    public Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredSession>>(_sessions.Values.Select(state => state.Stored).ToArray());

    public Task<ISessionMembership?> JoinAsync(string sessionId, SessionUser joiner, CancellationToken cancellationToken) =>
        Task.FromResult<ISessionMembership?>(_sessions.TryGetValue(sessionId, out var state) ? state.Join(joiner) : null);

    public Task<bool> AnnotateAsync(string sessionId, SessionUser author, Contracts.Annotation annotation, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.TryGetValue(sessionId, out var state) && state.Annotate(author, annotation));

    public Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.TryGetValue(sessionId, out var state) ? state.SetSensors(sensorIds) : null);

    public Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(sessionId, out var state) || !Remove(state))
            return Task.FromResult(false);
        // A join that found the state before it was removed either got in first (and gets ended) or finds it ended.
        state.End();
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<StoredSession>> EndIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var ended = new List<StoredSession>();
        foreach (var state in _sessions.Values)
        {
            // Ended under its own lock first, then removed: an EndSession meanwhile removes it (and counts it) once.
            if (state.EndIfIdle(now, idleFor) && Remove(state))
                ended.Add(state.Stored);
        }
        return Task.FromResult<IReadOnlyList<StoredSession>>(ended);
    }

    /// <summary>One open session's state, for tests that look inside.</summary>
    internal SessionState? Find(string sessionId) => _sessions.TryGetValue(sessionId, out var state) ? state : null;

    public void Dispose() => _onStopping.Dispose();

    /// <summary>Removes an open session and takes it off its owner's count; <see langword="false"/> when someone else removed it first.</summary>
    private bool Remove(SessionState state)
    {
        lock (_gate)
        {
            if (!_sessions.TryRemove(KeyValuePair.Create(state.Id, state)))
                return false;
            var owner = state.Stored.Info.OwnerId;
            if (_openByOwner[owner] is var open && open > 1)
                _openByOwner[owner] = open - 1;
            else
                _openByOwner.Remove(owner);
            return true;
        }
    }

    private void StopAll()
    {
        foreach (var state in _sessions.Values)
            state.Stop();
    }
}
