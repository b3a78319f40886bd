using System.Threading.Channels;
using SensorHub.Contracts;

namespace SensorHub.Server.Sessions.Internal;

/// <summary>
/// One joined stream's bounded event buffer. Its session writes it under the session's lock and never waits: a full
/// buffer fails the stream instead (see <see cref="LiveSessionOptions.EventBufferCapacity"/>). One reader, the stream.
/// </summary>
internal sealed class SessionMember : ISessionMembership
{
    private readonly SessionState _session;
    private readonly Channel<SessionEvent> _buffer;
    private int _left;

    public SessionMember(SessionState session, SessionUser user, int capacity)
    {
        _session = session;
        User = user;
        _buffer = Channel.CreateBounded<SessionEvent>(new BoundedChannelOptions(capacity)
        {
            // With Wait, TryWrite refuses when full instead of dropping: the session decides what a full buffer means.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    public SessionUser User { get; }

    /// <summary>
    /// Whether the session has already taken this stream out of its user's presence (it was evicted by a change of
    /// sensors), so that leaving later does not count it twice. Read and written under the session's lock.
    /// </summary>
    public bool PresenceReleased { get; set; }

    public ChannelReader<SessionEvent> Events => _buffer.Reader;

    /// <summary>Called under the session's lock.</summary>
    public bool TryWrite(SessionEvent sessionEvent) => _buffer.Writer.TryWrite(sessionEvent);

    /// <summary>Ends the stream after what is buffered; with an error, the reader gets it after that.</summary>
    public void Complete(Exception? error = null) => _buffer.Writer.TryComplete(error);

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            _buffer.Writer.TryComplete();
            _session.Leave(this);
        }
        return ValueTask.CompletedTask;
    }
}
