namespace SensorHub.Server.Redis.Sessions;

/// <summary>
/// The Lua scripts of the Redis session store: every change of a session is one script, so that its checks, its state
/// change, the event sequence's increment, the event's append to the session's stream and its <c>PUBLISH</c> happen
/// at once, and every node sees the events in sequence order.
/// </summary>
/// <remarks>
/// Every script gets ARGV[1] the key prefix, ARGV[2] the session id and ARGV[3] the bound of the session's event
/// stream, and names its keys from them (see <see cref="RedisSessionStore"/> for the layout); one Redis, not Redis
/// Cluster. An event travels as a JSON array of strings: its sequence (formatted with <c>%d</c>, never <c>%.14g</c>),
/// its kind, then the kind's fields. Times are Redis's own (<c>TIME</c>), the same for every node.
/// </remarks>
internal static class RedisSessionScripts
{
    private const string Prelude = """
        local P = ARGV[1]
        local id = ARGV[2]
        local B = P .. 'session:' .. id
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function emit(fields)
          local seq = string.format('%d', redis.call('INCR', B .. ':seq'))
          table.insert(fields, 1, seq)
          local payload = cjson.encode(fields)
          redis.call('XADD', B .. ':events', 'MAXLEN', '~', ARGV[3], seq .. '-0', 'e', payload)
          redis.call('PUBLISH', B .. ':channel', payload)
          return seq
        end
        local function may_read_all(prefixes_json, sensors)
          if prefixes_json == '' then return true end
          local prefixes = cjson.decode(prefixes_json)
          for _, s in ipairs(sensors) do
            local ok = false
            for _, p in ipairs(prefixes) do
              if string.sub(s, 1, #p) == p then ok = true break end
            end
            if not ok then return false end
          end
          return true
        end
        local function leave_user(user)
          if redis.call('HEXISTS', B .. ':presence', user) == 0 then return 0 end
          local conns = redis.call('HINCRBY', B .. ':presence', user, -1)
          if conns > 0 then return 0 end
          local name = redis.call('HGET', B .. ':names', user) or ''
          redis.call('HDEL', B .. ':presence', user)
          redis.call('HDEL', B .. ':names', user)
          if redis.call('HLEN', B .. ':presence') == 0 then
            redis.call('HSET', B, 'empty', string.format('%d', now_ms()))
          end
          emit({'left', user, name, '0'})
          return 1
        end

        """;

    /// <summary>ARGV[4] owner id, [5] info JSON, [6] invited JSON, [7] sensors JSON, [8] most open sessions per owner. 1 added, 0 too many.</summary>
    public const string Add = Prelude + """
        local owned = P .. 'owner:' .. ARGV[4]
        if redis.call('SCARD', owned) >= tonumber(ARGV[8]) then return 0 end
        redis.call('HSET', B, 'info', ARGV[5], 'invited', ARGV[6], 'sensors', ARGV[7], 'owner', ARGV[4], 'empty', string.format('%d', now_ms()))
        redis.call('SET', B .. ':seq', '0')
        redis.call('SADD', owned, id)
        redis.call('SADD', P .. 'sessions', id)
        return 1
        """;

    /// <summary>
    /// ARGV[4] member id, [5] user id, [6] name, [7] the user's prefixes as JSON ('' for every sensor), [8] node id,
    /// [9] most participants. Returns {'gone'}, {'full'} or {'ok', sequence, info, sensors, presence, names, recent}:
    /// the snapshot and the sequence it holds up to, read in the script that registered the member.
    /// </summary>
    public const string Join = Prelude + """
        if redis.call('EXISTS', B) == 0 then return {'gone'} end
        local sensors = cjson.decode(redis.call('HGET', B, 'sensors'))
        if not may_read_all(ARGV[7], sensors) then return {'gone'} end
        local conns = tonumber(redis.call('HGET', B .. ':presence', ARGV[5]) or '0')
        if conns == 0 and redis.call('HLEN', B .. ':presence') >= tonumber(ARGV[9]) then return {'full'} end
        conns = redis.call('HINCRBY', B .. ':presence', ARGV[5], 1)
        if conns == 1 then
          redis.call('HSET', B .. ':names', ARGV[5], ARGV[6])
          redis.call('HSET', B, 'empty', '')
          emit({'joined', ARGV[5], ARGV[6], '1'})
        end
        redis.call('HSET', B .. ':members', ARGV[4], cjson.encode({ARGV[8], ARGV[5], ARGV[7]}))
        redis.call('SADD', P .. 'node:' .. ARGV[8] .. ':members', id .. '|' .. ARGV[4])
        return {'ok', redis.call('GET', B .. ':seq'), redis.call('HGET', B, 'info'), redis.call('HGET', B, 'sensors'),
          redis.call('HGETALL', B .. ':presence'), redis.call('HGETALL', B .. ':names'), redis.call('LRANGE', B .. ':recent', 0, -1)}
        """;

    /// <summary>
    /// ARGV[4] member id. Idempotent: a member that already left (or whose session ended) changes nothing. Returns 0
    /// when it had left, 1 when its user stays (other streams), 2 when its user left.
    /// </summary>
    public const string Leave = Prelude + """
        local record = redis.call('HGET', B .. ':members', ARGV[4])
        if not record then return 0 end
        local member = cjson.decode(record)
        redis.call('HDEL', B .. ':members', ARGV[4])
        redis.call('SREM', P .. 'node:' .. member[1] .. ':members', id .. '|' .. ARGV[4])
        local before = redis.call('HLEN', B .. ':presence')
        leave_user(member[2])
        if redis.call('HLEN', B .. ':presence') < before then return 2 end
        return 1
        """;

    /// <summary>
    /// ARGV[4] author id, [5] the author's prefixes as JSON ('' for every sensor), [6] annotation JSON, [7] its sensor
    /// ('' none), [8] rate limit, [9] rate period in ms, [10] recent annotations kept. Returns {'gone'}, {'sensor'},
    /// {'rate', ms until the next is allowed} or {'ok'}. The rate is a token bucket per author per session, on Redis's clock.
    /// </summary>
    public const string Annotate = Prelude + """
        if redis.call('EXISTS', B) == 0 then return {'gone'} end
        local sensors = cjson.decode(redis.call('HGET', B, 'sensors'))
        if not may_read_all(ARGV[5], sensors) then return {'gone'} end
        if ARGV[7] ~= '' then
          local found = false
          for _, s in ipairs(sensors) do
            if s == ARGV[7] then found = true break end
          end
          if not found then return {'sensor'} end
        end
        local cap = tonumber(ARGV[8])
        local period = tonumber(ARGV[9])
        local now = now_ms()
        local tokens = cap
        local bucket = redis.call('HGET', B .. ':rate', ARGV[4])
        if bucket then
          local t, at = string.match(bucket, '^([^:]+):(%d+)$')
          tokens = math.min(cap, tonumber(t) + (now - tonumber(at)) / period * cap)
        end
        if tokens < 1 then return {'rate', string.format('%d', math.ceil((1 - tokens) / cap * period))} end
        redis.call('HSET', B .. ':rate', ARGV[4], string.format('%.17g', tokens - 1) .. ':' .. string.format('%d', now))
        local keep = tonumber(ARGV[10])
        if keep > 0 then
          redis.call('RPUSH', B .. ':recent', ARGV[6])
          redis.call('LTRIM', B .. ':recent', -keep, -1)
        end
        emit({'annotated', ARGV[6]})
        return {'ok'}
        """;

    /// <summary>
    /// ARGV[4] the new sensors as JSON. Members who may not read them all are taken out first; the
    /// <c>sensorsChanged</c> event names them (comma-separated member ids), so that the node of each ends its stream
    /// instead of sending the change; <c>left</c> follows for each of their users who has no stream left. Returns
    /// {'gone'} or {'ok', info, invited, the number of <c>left</c> events published}.
    /// </summary>
    public const string SetSensors = Prelude + """
        if redis.call('EXISTS', B) == 0 then return {'gone'} end
        local sensors = cjson.decode(ARGV[4])
        redis.call('HSET', B, 'sensors', ARGV[4])
        local evicted = {}
        local users = {}
        local members = redis.call('HGETALL', B .. ':members')
        for i = 1, #members, 2 do
          local member = cjson.decode(members[i + 1])
          if not may_read_all(member[3], sensors) then
            table.insert(evicted, members[i])
            table.insert(users, member[2])
            redis.call('HDEL', B .. ':members', members[i])
            redis.call('SREM', P .. 'node:' .. member[1] .. ':members', id .. '|' .. members[i])
          end
        end
        emit({'sensorsChanged', ARGV[4], table.concat(evicted, ',')})
        local lefts = 0
        for _, user in ipairs(users) do lefts = lefts + leave_user(user) end
        return {'ok', redis.call('HGET', B, 'info'), redis.call('HGET', B, 'invited'), lefts}
        """;

    /// <summary>
    /// ARGV[4] '1' to end only if idle, [5] how long in ms nobody must have been present. Sends <c>ended</c>, then
    /// lets the session's state go (its event stream and sequence a minute later, for nodes that catch up).
    /// Idempotent: {'gone'} when it had ended, {'busy'} when not idle, else {'ok', info, invited, sensors}.
    /// </summary>
    public const string End = Prelude + """
        if redis.call('EXISTS', B) == 0 then return {'gone'} end
        if ARGV[4] == '1' then
          if redis.call('HLEN', B .. ':presence') > 0 then return {'busy'} end
          local empty = redis.call('HGET', B, 'empty')
          if (not empty) or empty == '' or now_ms() - tonumber(empty) < tonumber(ARGV[5]) then return {'busy'} end
        end
        local info = redis.call('HGET', B, 'info')
        local invited = redis.call('HGET', B, 'invited')
        local sensors = redis.call('HGET', B, 'sensors')
        local owner = redis.call('HGET', B, 'owner')
        emit({'ended'})
        local members = redis.call('HGETALL', B .. ':members')
        for i = 1, #members, 2 do
          local member = cjson.decode(members[i + 1])
          redis.call('SREM', P .. 'node:' .. member[1] .. ':members', id .. '|' .. members[i])
        end
        redis.call('DEL', B, B .. ':members', B .. ':presence', B .. ':names', B .. ':recent', B .. ':rate')
        redis.call('SREM', P .. 'owner:' .. owner, id)
        redis.call('SREM', P .. 'sessions', id)
        redis.call('PEXPIRE', B .. ':seq', 60000)
        redis.call('PEXPIRE', B .. ':events', 60000)
        return {'ok', info, invited, sensors}
        """;
}
