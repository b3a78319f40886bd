using System.Threading.Channels;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;

namespace SensorHub.Server.Redis.Sessions;

/// <summary>
/// One joined stream on this node: its bounded event buffer, the sequence of the snapshot it started from (it gets
/// only the events after it), and its id in the session's members in Redis. Disposing it leaves, in Redis.
/// </summary>
internal sealed class RedisSessionMember : ISessionMembership
{
    private readonly RedisSessionStore _store;
    private readonly Channel<SessionEvent> _buffer;
    private int _left;
    private volatile bool _completed;

    public RedisSessionMember(RedisSessionStore store, RedisLocalSession session, string memberId, SessionUser user, long start, int capacity)
    {
        _store = store;
        Session = session;
        MemberId = memberId;
        User = user;
        Start = start;
        _buffer = Channel.CreateBounded<SessionEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    public RedisLocalSession Session { get; }

    public string MemberId { get; }

    public SessionUser User { get; }

    /// <summary>The sequence the snapshot holds up to: the stream gets the events after it.</summary>
    public long Start { get; }

    /// <summary>Whether the stream was completed (ended, evicted, failed): it gets nothing more.</summary>
    public bool IsCompleted => _completed;

    /// <summary>Set by the store: the registration that fails the stream when Redis is lost.</summary>
    public CancellationTokenRegistration LostRegistration { get; set; }

    public ChannelReader<SessionEvent> Events => _buffer.Reader;

    public bool TryWrite(SessionEvent sessionEvent) => _buffer.Writer.TryWrite(sessionEvent);

    /// <summary>Ends the stream after what is buffered; with an error, the reader gets it after that.</summary>
    public void Complete(Exception? error = null)
    {
        _completed = true;
        _buffer.Writer.TryComplete(error);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _left, 1) != 0)
            return;
        Complete();
        LostRegistration.Dispose();
        await _store.LeaveAsync(this).ConfigureAwait(false);
    }
}
