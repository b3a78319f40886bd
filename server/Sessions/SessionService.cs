using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Sessions;

/// <summary>
/// Live sessions as the hub offers them: it checks every argument and what depends on the session's data (whether the
/// caller may see it, owns it, may read its sensors), then hands over to the <see cref="ISessionStore"/>. Roles are
/// the hub's authorization filter's business, checked before a call gets here. Nothing reaches the store before every
/// check has passed, so a refused call changes nothing. A session that the caller may not see (private to others, or
/// on a sensor outside the caller's prefixes) is answered exactly as an unknown one.
/// </summary>
/// <remarks>
/// Who a user is, is their id (the token's subject): it owns sessions, keys presence and the per-user limits. The
/// name is only shown. A token without a subject may list and join sessions, but neither create one nor annotate.
/// </remarks>
public sealed class SessionService(
    ISessionStore store,
    IOptions<LiveSessionOptions> options,
    TimeProvider time,
    ILogger<SessionService> logger)
{
    /// <summary>The longest user id that <see cref="CreateSessionRequest.Invited"/> may hold (OpenID Connect's bound on a subject).</summary>
    public const int MaxUserIdLength = 255;

    /// <summary>What the presence key of a stream of a token without a subject starts with; 32 hex digits follow.</summary>
    public const string StreamIdPrefix = "stream:";

    private readonly LiveSessionOptions _options = options.Value;

    /// <summary>Creates a session owned by <paramref name="user"/>.</summary>
    public async Task<SessionInfo> CreateAsync(SensorHubUser user, CreateSessionRequest? request, CancellationToken cancellationToken)
    {
        var ownerId = user.Id ?? throw NoSubject("own a session: a session is owned by its creator's subject");
        if (request is null)
            throw new SessionException(SensorHubErrors.InvalidArgument, "request is required.");
        var title = CheckText(request.Title, "request.title", _options.MaxTitleLength);
        var sensorIds = CheckSensorIds(user, request.SensorIds, "request.sensorIds");
        var invited = CheckInvited(request.Invited);
        var info = new SessionInfo
        {
            Id = NewId(),
            Title = title,
            Owner = user.Name,
            OwnerId = ownerId,
            SensorIds = sensorIds,
            Private = request.Private,
        };
        await store.AddAsync(new StoredSession(info, invited), cancellationToken).ConfigureAwait(false);
        SessionsLog.Created(logger, info.Id, info.Owner, info.OwnerId, sensorIds.Length, info.Private);
        return info;
    }

    /// <summary>The open sessions <paramref name="user"/> may see, by title.</summary>
    public async Task<IReadOnlyList<SessionInfo>> ListAsync(SensorHubUser user, CancellationToken cancellationToken)
    {
        var sessions = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        // A real array: MessagePack serializes the runtime type, and cannot serialize the one a collection expression makes.
        return sessions
            .Where(session => MaySee(user, session))
            .Select(session => session.Info)
            .OrderBy(info => info.Title, StringComparer.Ordinal)
            .ThenBy(info => info.Id, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// Joins <paramref name="user"/> to a session: the snapshot first (its participants include the joiner), then the
    /// events as they happen, until the session ends. The user's presence is held from the generator's first step to
    /// its <c>finally</c>, which runs however the stream ends: the client cancels it, the connection goes, the
    /// session ends, or the stream falls behind.
    /// </summary>
    public async IAsyncEnumerable<SessionEvent> JoinAsync(
        SensorHubUser user,
        string? sessionId,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var id = CheckSessionId(sessionId);
        await FindVisibleAsync(user, id, cancellationToken).ConfigureAwait(false);
        // Presence is by subject; a token without one is a participant per stream, under a key no other stream has.
        var joiner = new SessionUser(user.Id ?? StreamIdPrefix + NewId(), user.Name, user.SensorPrefixes);
        // Joined inside the generator, not before it: a generator that is never started never reaches its finally,
        // and a membership opened outside it would then never leave. The store looks at the sensors again under the
        // session's lock: they may have changed since FindVisibleAsync.
        await using var membership = await store.JoinAsync(id, joiner, cancellationToken).ConfigureAwait(false)
            ?? throw SessionException.Unknown(id);
        SessionsLog.Joined(logger, user.Name, id);
        try
        {
            var events = membership.Events;
            while (await events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (events.TryRead(out var sessionEvent))
                    yield return sessionEvent;
            }
        }
        finally
        {
            SessionsLog.Left(logger, user.Name, id, cancellationToken.IsCancellationRequested);
        }
    }

    /// <summary>Adds an annotation to a session, with a server-made id and the server's time, and sends it to everyone in it.</summary>
    public async Task<Annotation> AnnotateAsync(SensorHubUser user, string? sessionId, AnnotationInput? input, CancellationToken cancellationToken)
    {
        var authorId = user.Id ?? throw NoSubject("annotate: an annotation is attributed to, and rate-limited by, its author's subject");
        var id = CheckSessionId(sessionId);
        if (input is null)
            throw new SessionException(SensorHubErrors.InvalidArgument, "input is required.");
        var text = CheckText(input.Text, "input.text", _options.MaxAnnotationLength);
        if (input.SensorId is { } sensorId)
            CheckSensorId(user, sensorId, "input.sensorId");
        if (input.Sequence is { } sequence)
        {
            if (sequence < 0)
                throw new SessionException(SensorHubErrors.InvalidArgument, $"input.sequence must be 0 or more; it was {sequence}.");
            if (input.SensorId is null)
                throw new SessionException(SensorHubErrors.InvalidArgument, "input.sequence needs input.sensorId: a sequence points at one sensor's reading.");
        }
        var session = await FindVisibleAsync(user, id, cancellationToken).ConfigureAwait(false);
        if (input.SensorId is not null && Array.IndexOf(session.Info.SensorIds, input.SensorId) < 0)
            throw SessionException.SensorNotInSession(input.SensorId, id);

        var annotation = new Annotation
        {
            Id = NewId(),
            Author = user.Name,
            AuthorId = authorId,
            Text = text,
            SensorId = input.SensorId,
            Sequence = input.Sequence,
            Time = time.GetUtcNow().UtcDateTime,
        };
        var author = new SessionUser(authorId, user.Name, user.SensorPrefixes);
        if (!await store.AnnotateAsync(id, author, annotation, cancellationToken).ConfigureAwait(false))
            throw SessionException.Unknown(id);
        return annotation;
    }

    /// <summary>
    /// Replaces a session's sensors; its owner or an admin only. Everyone in it gets <c>sensorsChanged</c>, except the
    /// streams of those who may not read all the new sensors: those end as if the session were unknown to them.
    /// </summary>
    public async Task<SessionInfo> SetSensorsAsync(SensorHubUser user, string? sessionId, string[]? sensorIds, CancellationToken cancellationToken)
    {
        var id = CheckSessionId(sessionId);
        var checkedIds = CheckSensorIds(user, sensorIds, "sensorIds");
        var session = await FindVisibleAsync(user, id, cancellationToken).ConfigureAwait(false);
        if (!IsOwnerOrAdmin(user, session))
            throw new SessionException(SensorHubErrors.NotAllowed, $"Not allowed: only its owner or an admin may change the sensors of session '{id}'.");
        var changed = await store.SetSensorsAsync(id, checkedIds, cancellationToken).ConfigureAwait(false)
            ?? throw SessionException.Unknown(id);
        SessionsLog.SensorsChanged(logger, id, user.Name, checkedIds.Length);
        return changed.Info;
    }

    /// <summary>Ends a session; its owner or an admin only. Everyone in it gets <c>ended</c>, their streams complete, its state goes.</summary>
    public async Task EndAsync(SensorHubUser user, string? sessionId, CancellationToken cancellationToken)
    {
        var id = CheckSessionId(sessionId);
        var session = await FindVisibleAsync(user, id, cancellationToken).ConfigureAwait(false);
        if (!IsOwnerOrAdmin(user, session))
            throw new SessionException(SensorHubErrors.NotAllowed, $"Not allowed: only its owner or an admin may end session '{id}'.");
        if (!await store.EndAsync(id, cancellationToken).ConfigureAwait(false))
            throw SessionException.Unknown(id);
        SessionsLog.Ended(logger, id, user.Name);
    }

    /// <summary>
    /// Whether <paramref name="user"/> may see (list, join, annotate, change, end) <paramref name="session"/>: it is
    /// open to them (not private, or they own it, are invited or are an admin) and they may read every one of its
    /// sensors. Sensor prefixes bound admins too, as they bound an admin's subscriptions.
    /// </summary>
    public static bool MaySee(SensorHubUser user, StoredSession session) =>
        (!session.Info.Private
            || user.IsAdmin
            || user.Is(session.Info.OwnerId)
            || (user.Id is { } id && session.Invited.Contains(id, StringComparer.Ordinal)))
        && MayReadAll(user, session.Info.SensorIds);

    /// <summary>Whether <paramref name="id"/> has the form of the ids the server makes: 32 lowercase hex digits.</summary>
    public static bool IsWellFormedId(string id) => ServerIds.IsWellFormed(id);

    private static bool IsOwnerOrAdmin(SensorHubUser user, StoredSession session) =>
        user.IsAdmin || user.Is(session.Info.OwnerId);

    private static bool MayReadAll(SensorHubUser user, string[] sensorIds)
    {
        foreach (var sensorId in sensorIds)
        {
            if (!user.Covers(sensorId))
                return false;
        }
        return true;
    }

    private async Task<StoredSession> FindVisibleAsync(SensorHubUser user, string id, CancellationToken cancellationToken)
    {
        var session = await store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        return session is not null && MaySee(user, session) ? session : throw SessionException.Unknown(id);
    }

    private static SessionException NoSubject(string what) =>
        new(SensorHubErrors.NotAllowed,
            $"Not allowed: your token has no subject ('sub' claim), so it may not {what}. A token without a subject may list and join sessions only.");

    private static string CheckSessionId(string? sessionId)
    {
        if (sessionId is null)
            throw new SessionException(SensorHubErrors.InvalidArgument, "sessionId is required.");
        if (sessionId.Length == 0)
            throw new SessionException(SensorHubErrors.InvalidArgument, "sessionId is empty.");
        // Not echoed: a malformed id can be anything, of any length.
        if (!IsWellFormedId(sessionId))
            throw new SessionException(SensorHubErrors.InvalidArgument, "sessionId is malformed: a session id is 32 lowercase hexadecimal digits.");
        return sessionId;
    }

    private static string CheckText(string? text, string name, int maxLength)
    {
        if (text is null)
            throw new SessionException(SensorHubErrors.InvalidArgument, $"{name} is required.");
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
            throw new SessionException(SensorHubErrors.InvalidArgument, $"{name} is empty.");
        if (trimmed.Length > maxLength)
            throw new SessionException(SensorHubErrors.InvalidArgument, $"{name} is {trimmed.Length} characters long; at most {maxLength} are allowed.");
        return trimmed;
    }

    private string[] CheckSensorIds(SensorHubUser user, string[]? sensorIds, string name)
    {
        if (sensorIds is null)
            throw new SessionException(SensorHubErrors.InvalidArgument, $"{name} is required.");
        if (sensorIds.Length > _options.MaxSensorsPerSession)
            throw new SessionException(SensorHubErrors.InvalidArgument, $"{name} holds {sensorIds.Length} sensors; at most {_options.MaxSensorsPerSession} are allowed.");
        for (var i = 0; i < sensorIds.Length; i++)
            CheckSensorId(user, sensorIds[i], $"{name}[{i}]");
        return sensorIds.Distinct(StringComparer.Ordinal).ToArray();
    }

    private static void CheckSensorId(SensorHubUser user, string? sensorId, string name)
    {
        if (!SensorId.IsValid(sensorId, out var problem))
            throw new SessionException(SensorHubErrors.InvalidArgument, $"{name} {problem}.");
        // The prefixes only: whether the caller's roles allow the call at all is the hub filter's to say.
        if (!user.Covers(sensorId))
            throw new SessionException(SensorHubErrors.NotAllowed, $"Not allowed: your token may not read sensor '{sensorId}' ({name}).");
    }

    private string[] CheckInvited(string[]? invited)
    {
        if (invited is null)
            return [];
        if (invited.Length > _options.MaxInvited)
            throw new SessionException(SensorHubErrors.InvalidArgument, $"request.invited holds {invited.Length} user ids; at most {_options.MaxInvited} are allowed.");
        for (var i = 0; i < invited.Length; i++)
        {
            var userId = invited[i];
            if (string.IsNullOrWhiteSpace(userId))
                throw new SessionException(SensorHubErrors.InvalidArgument, $"request.invited[{i}] is empty.");
            if (userId.Length > MaxUserIdLength)
                throw new SessionException(SensorHubErrors.InvalidArgument, $"request.invited[{i}] is {userId.Length} characters long; at most {MaxUserIdLength} are allowed.");
        }
        return invited.Distinct(StringComparer.Ordinal).ToArray();
    }

    private static string NewId() => ServerIds.New();
}
