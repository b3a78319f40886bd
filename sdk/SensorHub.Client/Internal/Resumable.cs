using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using SensorHub.Contracts;

namespace SensorHub.Client.Internal;

/// <summary>How an attempt of a resumable operation ended without ending the operation.</summary>
internal enum Interruption
{
    /// <summary>
    /// The call failed without a server error: the connection dropped. SignalR fails a call cut by a drop with a
    /// cancellation or an invalid-operation error; the server's own errors are always <see cref="HubException"/>s.
    /// </summary>
    ConnectionLost,

    /// <summary>The server completed the stream before the operation was done: the contract says it does so only when it stops.</summary>
    EndedByServer,

    /// <summary>The server ended a running stream with a code the operation resumes from, like a drop (a session's <c>fell_behind</c>).</summary>
    Interrupted,

    /// <summary>The server refused a resume with a code the operation waits out for a while (its patience).</summary>
    Refused,
}

/// <summary>Why the next attempt is a resume: how the last one ended, the server's code and the error where there was one.</summary>
internal readonly record struct ResumeReason(Interruption Cause, string? Code, Exception? Error);

/// <summary>
/// What one kind of resumable operation does differently from the others; <see cref="Resumable.RunAsync"/> is the loop
/// they share. Delegates run on the consumer's path, one at a time: they may read and write the operation's own state
/// (where the consumer stands) without locks.
/// </summary>
internal sealed class ResumeSpec<TItem>
{
    /// <summary>The hub method, for logs.</summary>
    public required string Method { get; init; }

    /// <summary>What it is about (a sensor, session or upload id), for logs.</summary>
    public required string Target { get; init; }

    /// <summary>
    /// Runs before every attempt, outside the attempt's error handling: its exceptions end the operation. It gets
    /// <see langword="null"/> before the first attempt and why the last one ended before every later one; it may
    /// move where the next attempt starts (an upload reads the server's offset), or note what the interruption
    /// means (a subscription marks a possible server restart).
    /// </summary>
    public Func<ResumeReason?, CancellationToken, ValueTask>? BeforeAttempt { get; init; }

    /// <summary>
    /// Opens one attempt from where the consumer stands, under the attempt's own token (cancelled when the attempt
    /// ends, however it ends: that is what ends the server's generator).
    /// </summary>
    public required Func<CancellationToken, IAsyncEnumerable<TItem>> Open { get; init; }

    /// <summary>Whether an item, once passed on, ends the operation (a session's <c>ended</c>, an upload's result). Default: none does.</summary>
    public Func<TItem, bool>? IsLast { get; init; }

    /// <summary>Whether a stream that the server completed has finished the operation (a download with every byte). Default: no, resume.</summary>
    public Func<bool>? EndIsFinal { get; init; }

    /// <summary>Codes that end a running stream and are resumed at once, like a drop. Default: none.</summary>
    public Func<string, bool>? ResumesAfter { get; init; }

    /// <summary>
    /// How long a refusal with this code is retried while resuming (a negative span: for ever), or
    /// <see langword="null"/> when it is final. Default: every refusal is final.
    /// </summary>
    public Func<string, TimeSpan?>? PatienceFor { get; init; }
}

/// <summary>
/// The one loop behind every operation of the SDK that outlives a dropped connection: subscriptions, session joins,
/// downloads and uploads. Each attempt is one hub call under a token of its own; when it is interrupted the loop waits
/// for the connection and starts the next attempt from where the consumer stands.
/// </summary>
/// <remarks>
/// <para>The rules, the same for every operation:</para>
/// <list type="bullet">
/// <item>A call that fails without a <see cref="HubException"/> lost its connection, and is resumed once SignalR has
/// reconnected. A stream the server completes early is resumed too (the server is stopping).</item>
/// <item>A <see cref="HubException"/> without a code is an unexpected server error; it ends the operation as a
/// <see cref="SensorHubServerException"/>.</item>
/// <item>A <see cref="HubException"/> with a code is a refusal, and ends the operation, with these exceptions:
/// <c>backend_unavailable</c> (the node lost its Redis) is resumed like a drop, for every operation, after the client
/// has left that node for the next server where it has several; a code
/// in <see cref="ResumeSpec{TItem}.ResumesAfter"/> is resumed like a drop; a code with a
/// <see cref="ResumeSpec{TItem}.PatienceFor">patience</see> is retried, but only while resuming (after an attempt was
/// interrupted: a first attempt's refusal is final), at the reconnect policy's pace, until it has lasted longer than
/// its patience. That span starts at the first refusal after the last interruption or item: every reconnection
/// restarts it.</item>
/// <item>An item received resets all of that: the next interruption is a fresh one.</item>
/// </list>
/// </remarks>
internal sealed class Resumable(
    Func<int, CancellationToken, Task> waitForConnection, IRetryPolicy retryPolicy, ServerFailover servers, TimeProvider time, ILogger logger)
{
    /// <summary>The attempt count whose pacing follows a stream the server ended: about a second (see WaitForConnectionAsync).</summary>
    private const int EndedByServerPacing = 6;

    /// <summary>Runs <paramref name="spec"/> until an item ends it, the server ends it for good, or <paramref name="cancellationToken"/> does.</summary>
    /// <exception cref="SensorHubServerException">The server refused, or failed unexpectedly.</exception>
    public async IAsyncEnumerable<TItem> RunAsync<TItem>(ResumeSpec<TItem> spec, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ResumeReason? reason = null;
        // Attempts in a row that ended without an item: paces them while SignalR has not yet noticed a drop.
        var failures = 0;
        // Whether an attempt of this operation was interrupted: from then on, refusals with a patience are transient.
        var resuming = false;
        // When the refusals in a row began, and how many were retried.
        long? refusedSince = null;
        var refusals = 0;

        while (true)
        {
            if (spec.BeforeAttempt is { } before)
                await before(reason, cancellationToken).ConfigureAwait(false);
            // After a refusal the policy's delay has paced the retry already. A stream the server ended means the server
            // is stopping: it closes the connection right after its streams, so give it that moment rather than
            // resubscribe at once on a connection that is going away (a new stream there would only complete at once).
            var paced = reason?.Cause switch
            {
                Interruption.Refused => 0,
                Interruption.EndedByServer => Math.Max(failures, EndedByServerPacing),
                _ => failures,
            };
            await waitForConnection(paced, cancellationToken).ConfigureAwait(false);
            // Which connection this attempt runs on, so that a "cannot serve" answer leaves that server and no later one.
            var connection = servers.Generation;

            // Cancelled in the finally below however this attempt ends: the .NET client does not end the server's
            // generator when the enumeration is merely left.
            using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var items = spec.Open(call.Token).GetAsyncEnumerator(call.Token);
            Exception? failure = null;
            try
            {
                while (true)
                {
                    try
                    {
                        if (!await items.MoveNextAsync().ConfigureAwait(false))
                            break;
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = ex;
                        break;
                    }
                    failures = 0;
                    resuming = true;
                    refusedSince = null;
                    refusals = 0;
                    var item = items.Current;
                    yield return item;
                    if (spec.IsLast?.Invoke(item) == true)
                        yield break;
                }
            }
            finally
            {
                await call.CancelAsync().ConfigureAwait(false);
                await items.DisposeAsync().ConfigureAwait(false);
            }

            if (failure is null && spec.EndIsFinal?.Invoke() == true)
                yield break;

            ResumeReason interrupted;
            if (failure is HubException error)
            {
                var code = SensorHubErrors.CodeOf(error.Message);
                switch (Classify(spec, code, resuming, out var patience))
                {
                    case Refusal.ResumeAtOnce:
                        if (code == SensorHubErrors.BackendUnavailable)
                            servers.Leave(connection, error.Message);
                        interrupted = new ResumeReason(Interruption.Interrupted, code, error);
                        break;

                    case Refusal.Retry:
                        refusedSince ??= time.GetTimestamp();
                        var elapsed = time.GetElapsedTime(refusedSince.Value);
                        var delay = patience < TimeSpan.Zero || elapsed < patience
                            ? retryPolicy.NextRetryDelay(new RetryContext { PreviousRetryCount = refusals, ElapsedTime = elapsed, RetryReason = error })
                            : null;
                        if (delay is null)
                        {
                            ClientLog.RefusedPastPatience(logger, spec.Method, spec.Target, code!, elapsed, patience);
                            throw SensorHubServerException.From(error);
                        }
                        refusals++;
                        ClientLog.RetryingRefusal(logger, spec.Method, spec.Target, code!, delay.Value, elapsed);
                        if (delay.Value > TimeSpan.Zero)
                            await Task.Delay(delay.Value, time, cancellationToken).ConfigureAwait(false);
                        reason = new ResumeReason(Interruption.Refused, code, error);
                        continue;

                    default:
                        throw SensorHubServerException.From(error);
                }
            }
            else
            {
                interrupted = failure is null
                    ? new ResumeReason(Interruption.EndedByServer, null, null)
                    : new ResumeReason(Interruption.ConnectionLost, null, failure);
            }

            // Interrupted: a fresh resume, whose refusals get a fresh patience.
            reason = interrupted;
            resuming = true;
            refusedSince = null;
            refusals = 0;
            failures++;
            ClientLog.Resuming(logger, spec.Method, spec.Target, failures, interrupted.Cause, interrupted.Error);
        }
    }

    private enum Refusal
    {
        /// <summary>Ends the operation: every refusal not named below, and every server error without a code.</summary>
        Final,

        /// <summary>Resumed at once, like a drop.</summary>
        ResumeAtOnce,

        /// <summary>Retried at the reconnect policy's pace until it has lasted longer than its patience.</summary>
        Retry,
    }

    private static Refusal Classify<TItem>(ResumeSpec<TItem> spec, string? code, bool resuming, out TimeSpan patience)
    {
        patience = TimeSpan.Zero;
        if (code is null)
            return Refusal.Final;
        // The node cannot serve, not the call is wrong: any node (or this one, later) can.
        if (code == SensorHubErrors.BackendUnavailable)
            return Refusal.ResumeAtOnce;
        if (spec.ResumesAfter?.Invoke(code) == true)
            return Refusal.ResumeAtOnce;
        if (resuming && spec.PatienceFor?.Invoke(code) is { } allowed)
        {
            patience = allowed;
            return Refusal.Retry;
        }
        return Refusal.Final;
    }
}
