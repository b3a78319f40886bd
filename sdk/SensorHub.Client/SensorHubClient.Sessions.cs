using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;

namespace SensorHub.Client;

public sealed partial class SensorHubClient
{
    /// <summary>
    /// Opens a session owned by the caller (operator or admin): by its token's subject, which the session's
    /// <see cref="SessionInfo.OwnerId"/> holds. A token without a subject is refused (<c>not_allowed</c>).
    /// </summary>
    /// <param name="request">Its title, sensors, whether it is private, and the ids (token subjects) of those it invites.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<SessionInfo> CreateSessionAsync(CreateSessionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, [request], idempotent: false, cancellationToken);
    }

    /// <summary>
    /// Joins a session: first a <see cref="SessionEventKinds.Snapshot"/>, then its events as they happen; the caller is
    /// present until the enumeration ends. It completes after <see cref="SessionEventKinds.Ended"/>. Participants are
    /// told apart by <see cref="Participant.Id"/>; their names may repeat.
    /// </summary>
    /// <remarks>
    /// After a dropped connection (or when the server ended the stream because it fell behind) the client joins again
    /// and passes on the fresh snapshot that the rejoin begins with: events in between are not replayed, the snapshot
    /// holds the session as it is. A session that ended or is gone meanwhile (a restarted server keeps no sessions),
    /// or whose sensors changed to some the token may not read, ends the enumeration with <c>unknown_session</c>. Leaving the loop or cancelling <paramref name="cancellationToken"/>
    /// leaves the session.
    /// </remarks>
    /// <param name="sessionId">The session.</param>
    /// <param name="cancellationToken">Leaves the session.</param>
    /// <exception cref="SensorHubServerException">
    /// The server refused (<c>unknown_session</c>, <c>session_full</c>, <c>not_allowed</c>, ...; never retried, only
    /// <c>fell_behind</c> is resumed) or failed unexpectedly. Thrown by the enumeration.
    /// </exception>
    public IAsyncEnumerable<SessionEvent> JoinSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        return JoinSessionCoreAsync(sessionId, cancellationToken);
    }

    /// <summary>
    /// Adds an annotation that everyone in the session sees at once (operator or admin, with a token that has a
    /// subject: the annotation's <see cref="Annotation.AuthorId"/>).
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="input">The text, and optionally the sensor and reading it is about.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task AnnotateAsync(string sessionId, AnnotationInput input, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        ArgumentNullException.ThrowIfNull(input);
        return InvokeAsync(SensorHubMethods.Annotate, [sessionId, input], cancellationToken);
    }

    /// <summary>Replaces a session's sensors (its owner or an admin); participants get <see cref="SessionEventKinds.SensorsChanged"/>.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="sensorIds">Its sensors from now on.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task SetSessionSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        ArgumentNullException.ThrowIfNull(sensorIds);
        return InvokeAsync(SensorHubMethods.SetSessionSensors, [sessionId, sensorIds], cancellationToken);
    }

    /// <summary>Ends a session (its owner or an admin): every participant gets <see cref="SessionEventKinds.Ended"/>.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task EndSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        return InvokeAsync(SensorHubMethods.EndSession, [sessionId], cancellationToken);
    }

    /// <summary>The open sessions the caller may see, by title.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(CancellationToken cancellationToken = default) =>
        await InvokeAsync<SessionInfo[]>(SensorHubMethods.ListSessions, [], idempotent: true, cancellationToken).ConfigureAwait(false);

    private async IAsyncEnumerable<SessionEvent> JoinSessionCoreAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Cut, fallen behind (fell_behind), or ended without "ended" (the server stopping): join again once connected.
        var join = new ResumeSpec<SessionEvent>
        {
            Method = SensorHubMethods.JoinSession,
            Target = sessionId,
            Open = token => _hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, sessionId, token),
            IsLast = e => e.Kind == SessionEventKinds.Ended,
            ResumesAfter = code => code == SensorHubErrors.FellBehind,
        };
        using var leave = Leave(cancellationToken);
        await foreach (var e in _resumable.RunAsync(join, leave.Token).ConfigureAwait(false))
            yield return e;
    }
}
