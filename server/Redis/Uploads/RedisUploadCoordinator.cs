using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Uploads;
using StackExchange.Redis;

namespace SensorHub.Server.Redis.Uploads;

/// <summary>
/// Uploads across nodes that mount one data folder: each upload's write slot is a lease in Redis (<c>SET NX PX</c>
/// with a token of the writer's own, renewed while it writes, given back by a compare-and-delete), changes are
/// announced on a channel per upload, the janitor's sweep is a turn one node holds at a time, and the owners' quotas
/// are counted in Redis, for the whole cluster.
/// </summary>
/// <remarks>
/// <para>
/// A lease is trusted by the clock, not only by Redis: it is held until <see cref="RedisOptions.UploadLease"/> less a
/// tenth after the command that took or renewed it was sent, which is before Redis can let it run out (Redis counts
/// from its receipt). So a writer that cannot renew (killed, cut off) stops writing before another node can take the
/// lease, and checks it before each chunk's write, each record's write and each chunk's processing.
/// </para>
/// <para>
/// Keys, under <see cref="RedisOptions.KeyPrefix"/>: <c>uploads:lease:{id}</c> (a string, the holder's token, with
/// expiry), <c>uploads:janitor</c> (the same for the sweep), <c>uploads:quota:{ownerId}</c> (a hash: <c>uploads</c>,
/// <c>bytes</c>), <c>uploads:owners</c> (the set of owners counted) and <c>uploads:counted</c> (set once counted from
/// the records). Channel: <c>uploads:changed:{id}</c>.
/// </para>
/// </remarks>
internal sealed class RedisUploadCoordinator : IUploadCoordinator
{
    private const string RenewScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
        return 0
        """;

    private const string AddUploadScript = """
        local n = tonumber(redis.call('hget', KEYS[1], 'uploads') or '0')
        if n >= tonumber(ARGV[1]) then return {0, n} end
        redis.call('hincrby', KEYS[1], 'uploads', 1)
        redis.call('sadd', KEYS[2], ARGV[2])
        return {1, n + 1}
        """;

    private const string AddBytesScript = """
        local stored = tonumber(redis.call('hget', KEYS[1], 'bytes') or '0')
        if tonumber(ARGV[1]) > tonumber(ARGV[2]) - stored then return {0, string.format('%d', stored)} end
        redis.call('hincrby', KEYS[1], 'bytes', ARGV[1])
        redis.call('sadd', KEYS[2], ARGV[3])
        return {1, string.format('%d', stored)}
        """;

    private const string RemoveScript = """
        if redis.call('exists', KEYS[1]) == 0 then return 0 end
        local u = math.max(0, tonumber(redis.call('hget', KEYS[1], 'uploads') or '0') - tonumber(ARGV[1]))
        local b = math.max(0, tonumber(redis.call('hget', KEYS[1], 'bytes') or '0') - tonumber(ARGV[2]))
        if u == 0 and b == 0 then
          redis.call('del', KEYS[1])
          redis.call('srem', KEYS[2], ARGV[3])
          return 0
        end
        redis.call('hset', KEYS[1], 'uploads', string.format('%d', u), 'bytes', string.format('%d', b))
        return 1
        """;

    // ARGV[1]: the quota keys' prefix; then owner, uploads, bytes for each owner who keeps something.
    private const string CountScript = """
        local keep = {}
        for i = 2, #ARGV, 3 do
          redis.call('hset', ARGV[1] .. ARGV[i], 'uploads', ARGV[i + 1], 'bytes', ARGV[i + 2])
          redis.call('sadd', KEYS[1], ARGV[i])
          keep[ARGV[i]] = true
        end
        for _, owner in ipairs(redis.call('smembers', KEYS[1])) do
          if not keep[owner] then
            redis.call('del', ARGV[1] .. owner)
            redis.call('srem', KEYS[1], owner)
          end
        end
        redis.call('set', KEYS[2], '1')
        return 1
        """;

    private readonly RedisConnection _redis;
    private readonly RedisAvailability _availability;
    private readonly RedisOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisUploadCoordinator> _logger;

    public RedisUploadCoordinator(RedisConnection redis, RedisAvailability availability, IOptions<RedisOptions> options, ILogger<RedisUploadCoordinator> logger)
    {
        _redis = redis;
        _availability = availability;
        _options = options.Value;
        // The system's clock, never the application's TimeProvider (a test's fake clock): Redis lets a lease run out by
        // real time, so the writer must count its lease by real time too.
        _time = TimeProvider.System;
        _logger = logger;
    }

    public bool IsShared => true;

    /// <summary>How long the janitor's turn lives when its node dies in a sweep: four leases.</summary>
    private TimeSpan JanitorTurn => _options.UploadLease * 4;

    private RedisKey OwnersKey => _redis.Key("uploads:owners");

    /// <summary>Set once the counts were made from the records: a node that starts then leaves them be.</summary>
    private RedisKey CountedKey => _redis.Key("uploads:counted");

    public void ThrowIfUnavailable() => _availability.ThrowIfUnavailable();

    public async Task<IUploadWriteSlot?> TryTakeWriteSlotAsync(UploadState state, CancellationToken cancellationToken)
    {
        // The flag in memory first: two writers of this node never both ask Redis, and the node's inspection sees it.
        if (!state.TryBeginWrite())
            return null;
        try
        {
            var token = _redis.NodeId + ":" + Guid.NewGuid().ToString("N");
            var key = _redis.Key("uploads:lease:" + state.Id);
            var sent = _time.GetTimestamp();
            var taken = await _redis.Database.StringSetAsync(key, token, _options.UploadLease, When.NotExists)
                .WaitAsync(_options.UploadLease, _time, cancellationToken).ConfigureAwait(false);
            if (!taken)
            {
                state.EndWrite();
                return null;
            }
            return new Lease(this, state, key, token, sent);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            state.EndWrite();
            throw _availability.Failed(ex);
        }
        catch
        {
            state.EndWrite();
            throw;
        }
    }

    public async Task<IAsyncDisposable?> TryTakeJanitorTurnAsync(CancellationToken cancellationToken)
    {
        var key = _redis.Key("uploads:janitor");
        var token = _redis.NodeId + ":" + Guid.NewGuid().ToString("N");
        try
        {
            var taken = await _redis.Database.StringSetAsync(key, token, JanitorTurn, When.NotExists)
                .WaitAsync(_options.UploadLease, _time, cancellationToken).ConfigureAwait(false);
            return taken ? new JanitorTurnHeld(this, key, token) : null;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            throw _availability.Failed(ex);
        }
    }

    public void Changed(string uploadId)
    {
        try
        {
            _redis.Subscriber.Publish(ChangedChannel(uploadId), RedisValue.EmptyString, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // A watcher reads the folder again at least every second: a lost announcement delays it, no more.
            RedisUploadsLog.ChangeNotAnnounced(_logger, uploadId, ex.Message);
        }
    }

    public async Task<IUploadChanges> FollowAsync(string uploadId, CancellationToken cancellationToken)
    {
        // Without Redis the watch still follows the folder, by looking.
        if (!_availability.IsAvailable)
            return new Changes(null, _time);
        try
        {
            var queue = await _redis.Subscriber.SubscribeAsync(ChangedChannel(uploadId))
                .WaitAsync(_options.UploadLease, _time, cancellationToken).ConfigureAwait(false);
            return new Changes(queue, _time);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            return new Changes(null, _time);
        }
    }

    public async Task<(bool Added, int Kept)> TryAddUploadAsync(string ownerId, int most)
    {
        var reply = (RedisResult[])(await EvaluateAsync(AddUploadScript, [QuotaKey(ownerId), OwnersKey], [most, ownerId]).ConfigureAwait(false))!;
        return ((int)reply[0] == 1, (int)reply[1]);
    }

    public async Task<(bool Added, long Stored)> TryAddBytesAsync(string ownerId, long bytes, long most)
    {
        var reply = (RedisResult[])(await EvaluateAsync(AddBytesScript, [QuotaKey(ownerId), OwnersKey], [bytes, most, ownerId]).ConfigureAwait(false))!;
        return ((int)reply[0] == 1, (long)reply[1]);
    }

    public async Task RemoveAsync(string ownerId, int uploads, long bytes) =>
        await EvaluateAsync(RemoveScript, [QuotaKey(ownerId), OwnersKey], [uploads, bytes, ownerId]).ConfigureAwait(false);

    /// <summary>
    /// Sets the cluster's counts to what the records say, at each sweep (and at a node's start when Redis has none):
    /// the count then holds no reservation of a node that died before its write. An upload begun, or a chunk reserved, on another node while
    /// the records were read may be missed by it until the next sweep.
    /// </summary>
    public async Task CountedAsync(IReadOnlyList<(string OwnerId, long Bytes)> uploads, bool atStart)
    {
        if (!atStart)
        {
            await CountAsync(uploads).ConfigureAwait(false);
            return;
        }
        // At start only when the cluster's counts are missing (the first node ever, or a Redis that lost its data):
        // otherwise they are the cluster's already, and counting again would drop what other nodes do meanwhile.
        // Bounded, so that a node whose Redis is down starts all the same (it refuses uploads until Redis answers).
        try
        {
            if (await _redis.Database.KeyExistsAsync(CountedKey).WaitAsync(_options.GracePeriod, _time).ConfigureAwait(false))
                return;
            await CountAsync(uploads).WaitAsync(_options.GracePeriod, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SensorHubException || IsRedisFailure(ex))
        {
            RedisUploadsLog.QuotasNotCounted(_logger, ex.Message);
        }
    }

    private async Task CountAsync(IReadOnlyList<(string OwnerId, long Bytes)> uploads)
    {
        var owners = uploads
            .GroupBy(u => u.OwnerId, StringComparer.Ordinal)
            .Select(g => (OwnerId: g.Key, Uploads: g.Count(), Bytes: g.Sum(u => u.Bytes)))
            .ToList();
        var arguments = new List<RedisValue> { _redis.Prefix + "uploads:quota:" };
        foreach (var (ownerId, count, bytes) in owners)
        {
            arguments.Add(ownerId);
            arguments.Add(count);
            arguments.Add(bytes);
        }
        await EvaluateAsync(CountScript, [OwnersKey, CountedKey], [.. arguments]).ConfigureAwait(false);
        RedisUploadsLog.QuotasCounted(_logger, uploads.Count, owners.Count);
    }

    public async Task<(int Uploads, long Bytes)> QuotaOfAsync(string ownerId)
    {
        var values = await _redis.Database.HashGetAsync(QuotaKey(ownerId), ["uploads", "bytes"]).ConfigureAwait(false);
        return (values[0].IsNull ? 0 : (int)values[0], values[1].IsNull ? 0 : (long)values[1]);
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await _redis.Database.ScriptEvaluateAsync(script, keys, values)
                .WaitAsync(_options.UploadLease, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            throw _availability.Failed(ex);
        }
    }

    private RedisKey QuotaKey(string ownerId) => _redis.Key("uploads:quota:" + ownerId);

    private RedisChannel ChangedChannel(string uploadId) => _redis.Channel("uploads:changed:" + uploadId);

    private static bool IsRedisFailure(Exception ex) => ex is RedisException or TimeoutException or ObjectDisposedException;

    /// <summary>A write slot held as a lease in Redis, renewed every third of its life while held.</summary>
    private sealed class Lease : IUploadWriteSlot
    {
        private readonly RedisUploadCoordinator _owner;
        private readonly UploadState _state;
        private readonly RedisKey _key;
        private readonly string _token;
        private readonly CancellationTokenSource _lost = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly CancellationTokenRegistration _onRedisLost;
        private readonly Task _renewing;
        private long _validUntil;
        private string? _cause;

        public Lease(RedisUploadCoordinator owner, UploadState state, RedisKey key, string token, long sent)
        {
            _owner = owner;
            _state = state;
            _key = key;
            _token = token;
            _validUntil = ValidUntil(sent);
            // The node gave up on Redis (past its grace period): the writer stops at once rather than at the lease's end.
            _onRedisLost = owner._availability.Lost.Register(() => Lose("Redis is unavailable"));
            _renewing = Task.Run(RenewAsync);
        }

        public CancellationToken LostToken => _lost.Token;

        private TimeProvider Time => _owner._time;

        private TimeSpan Life => _owner._options.UploadLease;

        public void EnsureHeld()
        {
            if (_cause is null && Time.GetTimestamp() < Volatile.Read(ref _validUntil))
                return;
            Lose("it ran out before Redis renewed it");
            throw Lost();
        }

        public SensorHubException Lost()
        {
            Lose("another node wrote to the upload");
            return new SensorHubException(
                SensorHubErrors.BackendUnavailable,
                $"Upload '{_state.Id}': this node lost its write lease ({_cause}), so it stopped writing; what is on disk is kept and consistent. Resume the upload at its receivedBytes, on another node or later.");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _renewing.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The renewal ended by a failure nobody foresaw: the lease is taken for lost (nothing more is written
                // under it), and the slot is still given back below.
                Lose(ex.Message);
            }
            catch (OperationCanceledException)
            {
            }
            await _onRedisLost.DisposeAsync().ConfigureAwait(false);
            if (_cause is null || !_owner._redis.IsKilled)
            {
                try
                {
                    // Compare and delete: a lease that ran out and was taken by another writer stays theirs.
                    await _owner._redis.Database.ScriptEvaluateAsync(ReleaseScript, [_key], [_token])
                        .WaitAsync(Life, Time).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsRedisFailure(ex))
                {
                    RedisUploadsLog.LeaseNotReleased(_owner._logger, _state.Id, ex.Message);
                }
            }
            _state.EndWrite();
            _lost.Dispose();
            _stop.Dispose();
        }

        private long ValidUntil(long sent) => sent + (long)(Life.TotalSeconds * 0.9 * Time.TimestampFrequency);

        private void Lose(string cause)
        {
            if (Interlocked.CompareExchange(ref _cause, cause, null) is not null)
                return;
            RedisUploadsLog.LeaseLost(_owner._logger, _state.Id, cause);
            try
            {
                _lost.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private async Task RenewAsync()
        {
            var every = Life / 3;
            while (!_stop.IsCancellationRequested && _cause is null)
            {
                await Task.Delay(every, Time, _stop.Token).ConfigureAwait(false);
                var sent = Time.GetTimestamp();
                try
                {
                    var renewed = (long)await _owner._redis.Database
                        .ScriptEvaluateAsync(RenewScript, [_key], [_token, (long)Life.TotalMilliseconds])
                        .WaitAsync(every, Time, _stop.Token).ConfigureAwait(false);
                    if (renewed != 1)
                    {
                        Lose("another writer or the janitor holds it now");
                        return;
                    }
                    Volatile.Write(ref _validUntil, ValidUntil(sent));
                }
                catch (Exception ex) when (IsRedisFailure(ex))
                {
                    // Tried again at the next third; once the lease's time is out, it is lost.
                    if (Time.GetTimestamp() >= Volatile.Read(ref _validUntil))
                    {
                        Lose($"it could not be renewed: {ex.Message}");
                        return;
                    }
                }
                if (Time.GetTimestamp() >= Volatile.Read(ref _validUntil))
                {
                    Lose("it could not be renewed in time");
                    return;
                }
            }
        }
    }

    private sealed class JanitorTurnHeld(RedisUploadCoordinator owner, RedisKey key, string token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await owner._redis.Database.ScriptEvaluateAsync(ReleaseScript, [key], [token])
                    .WaitAsync(owner._options.UploadLease, owner._time).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                RedisUploadsLog.JanitorTurnNotReleased(owner._logger, ex.Message);
            }
        }
    }

    /// <summary>A subscription to an upload's channel, or, when Redis could not be had, none (then only the timeout wakes).</summary>
    private sealed class Changes(ChannelMessageQueue? queue, TimeProvider time) : IUploadChanges
    {
        private ChannelMessageQueue? _queue = queue;

        public async Task WaitAsync(TimeSpan atMost, CancellationToken cancellationToken)
        {
            if (_queue is not { } queue)
            {
                await Task.Delay(atMost, time, cancellationToken).ConfigureAwait(false);
                return;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(atMost);
            try
            {
                await queue.ReadAsync(timeout.Token).ConfigureAwait(false);
                // One look answers every change announced so far.
                while (queue.TryRead(out _))
                {
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                _queue = null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_queue is not { } queue)
                return;
            try
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
            }
        }
    }
}
