using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// A joined session stream read in the background into a queue, so that a test can take its events one at a time,
/// look for what has not come, and leave by cancelling (never by <c>break</c> alone). Every wait has a timeout.
/// </summary>
internal sealed class SessionStream : IAsyncDisposable
{
    private readonly CancellationTokenSource _leave = new();
    private readonly Channel<SessionEvent> _events = Channel.CreateUnbounded<SessionEvent>();
    private readonly Task _pump;

    private SessionStream(Func<CancellationToken, IAsyncEnumerable<SessionEvent>> open)
    {
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var sessionEvent in open(_leave.Token))
                    _events.Writer.TryWrite(sessionEvent);
                _events.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _events.Writer.TryComplete(ex);
                throw;
            }
        });
    }

    /// <summary>Ends when the stream ends: completes when it completes, fails when it fails.</summary>
    public Task Completion => _pump;

    public static SessionStream Join(HubConnection hub, string sessionId) =>
        new(ct => hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, sessionId, ct));

    public static SessionStream Join(SessionService service, SensorHubUser user, string? sessionId) =>
        new(ct => service.JoinAsync(user, sessionId, ct));

    /// <summary>The next event; throws what the stream failed with if it failed first.</summary>
    public async Task<SessionEvent> NextAsync()
    {
        try
        {
            return await _events.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Default);
        }
        catch (ChannelClosedException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    /// <summary>The next event, which must be of <paramref name="kind"/>.</summary>
    public async Task<SessionEvent> ExpectAsync(string kind)
    {
        var sessionEvent = await NextAsync();
        Assert.True(kind == sessionEvent.Kind, $"Expected a '{kind}' event, got '{sessionEvent.Kind}'.");
        return sessionEvent;
    }

    public Task<SessionEvent> SnapshotAsync() => ExpectAsync(SessionEventKinds.Snapshot);

    /// <summary>Checks that nothing has arrived that was not taken yet.</summary>
    public void AssertNothingPending()
    {
        if (_events.Reader.TryRead(out var sessionEvent))
            Assert.Fail($"An unexpected '{sessionEvent.Kind}' event arrived.");
    }

    /// <summary>Waits for the stream to end normally and returns what came that was not taken yet.</summary>
    public async Task<List<SessionEvent>> RestAsync()
    {
        await _pump.WaitAsync(Timeouts.Default);
        var rest = new List<SessionEvent>();
        while (_events.Reader.TryRead(out var sessionEvent))
            rest.Add(sessionEvent);
        return rest;
    }

    public Task CancelAsync() => _leave.CancelAsync();

    public async ValueTask DisposeAsync()
    {
        await _leave.CancelAsync();
        try
        {
            await _pump.WaitAsync(Timeouts.Default);
        }
        catch (Exception)
        {
            // Cancelled, failed or already observed: a test that cares looked at Completion itself.
        }
        _leave.Dispose();
    }
}
