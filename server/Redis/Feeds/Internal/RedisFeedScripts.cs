namespace SensorHub.Server.Redis.Feeds.Internal;

/// <summary>
/// The feeds' Lua scripts. Each change is one script, so that it is atomic across nodes: the caps are exact, a
/// sequence is issued once, and the <c>PUBLISH</c> of readings follows their <c>XADD</c> in the same step, so pub/sub
/// order is sequence order. Sequences are formatted with <c>string.format('%d')</c> (Lua 5.1 prints large numbers as
/// <c>%.14g</c>); timestamps and values stay the strings the node sent.
/// </summary>
internal static class RedisFeedScripts
{
    /// <summary>
    /// The start of every script that issues sequences. Redis's run id changes at every start of redis-server; the
    /// run id the sequences were last issued under is kept in <c>meta</c>. When they differ, Redis restarted (or this
    /// is the first script ever), and with <c>appendfsync everysec</c> it may have lost the last second of writes:
    /// sequences issued then, seen by subscribers, are gone from the counters. The generation goes up, every sensor's
    /// next sequence then jumps by 10^9 (more than one Redis can issue in the lost second; checked against the sensor's
    /// own generation), and the
    /// floor for new sensors (<c>hwm</c>) goes past the clock by the same gap. So no sequence is ever issued twice,
    /// whatever the AOF lost, and a subscriber resuming after the restart sees a jump, never a repeat.
    /// KEYS[meta]; defines <c>gen</c> and <c>nowms</c> (Redis's clock, milliseconds).
    /// </summary>
    private const string Prelude = """
        local t = redis.call('TIME')
        local nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local m = redis.call('HMGET', KEYS[1], 'runid', 'gen', 'hwm')
        local runid = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
        local gen = tonumber(m[2] or '0')
        if m[1] ~= runid then
          gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
          local hwm = math.max(tonumber(m[3] or '0'), nowms * 1000) + 1000000000
          redis.call('HSET', KEYS[1], 'runid', runid, 'hwm', string.format('%d', hwm))
        end
        -- A new sensor's first sequence: the microseconds since 1970 (as in the in-memory engine), above the floor.
        local function firstsequence()
          local first = nowms * 1000
          local hwm = tonumber(redis.call('HGET', KEYS[1], 'hwm') or '0')
          if first <= hwm then first = hwm + 1 end
          return first
        end
        -- A sensor registered or removed, told to every node's watches: the change counter goes up by one and the
        -- message carries it, so a node that misses a message sees the counter ahead of what it heard.
        local function announce(sensors, sign, id)
          local c = redis.call('HINCRBY', KEYS[1], 'changes', 1)
          redis.call('PUBLISH', sensors, sign .. string.format('%d', c) .. ' ' .. id)
        end
        local function register(sensor, ids, id, name, kind, publishers, publisher, sensors)
          local first = firstsequence()
          redis.call('HSET', sensor, 'name', name, 'kind', kind, 'first', string.format('%d', first),
            'last', string.format('%d', first - 1), 'gen', string.format('%d', gen), 'at', string.format('%d', nowms))
          if publisher then
            redis.call('HSET', sensor, 'registrar', publisher)
            redis.call('HINCRBY', publishers, publisher, 1)
          end
          redis.call('ZADD', ids, 0, id)
          redis.call('HINCRBY', KEYS[1], 'sensors', 1)
          announce(sensors, '+', id)
          return first - 1
        end

        """;

    /// <summary>
    /// Publishes readings to one sensor, registering it first when it is unknown and the registration and caps allow.
    /// KEYS: meta, sensor, history, ids, publishers. ARGV: id, mode (<c>n</c> none, <c>s</c> server, <c>p</c> publisher),
    /// publisher, max sensors, max per publisher, history capacity, channel, the node's clock (UTC ticks), the sensors'
    /// channel (where a registration is announced), then ticks and value per reading. A publish that would take a sequence past 2^53 - 1 (JavaScript reads sequences exactly
    /// below it) fails. Returns { status (0 published, 1 registered, 2 unknown, 3 too many sensors, 4 too many for the
    /// publisher), first sequence, the sensor's kind } (the kind only when published).
    /// The channel's message: <c>@</c> and the node's clock, the first sequence, then ticks and value per reading,
    /// separated by spaces (<see cref="RedisFeedRouter.Parse(string, StackExchange.Redis.RedisValue, out long)"/>).
    /// </summary>
    public const string Publish = Prelude + """
        local s = redis.call('HMGET', KEYS[2], 'last', 'gen', 'kind')
        local kind = s[3] or 'device'
        local status = 0
        local last
        if not s[1] then
          if ARGV[2] == 'n' then return {2, 0} end
          if tonumber(redis.call('HGET', KEYS[1], 'sensors') or '0') >= tonumber(ARGV[4]) then return {3, 0} end
          if ARGV[2] == 'p' and tonumber(redis.call('HGET', KEYS[5], ARGV[3]) or '0') >= tonumber(ARGV[5]) then return {4, 0} end
          last = register(KEYS[2], KEYS[4], ARGV[1], ARGV[1], 'device', KEYS[5], ARGV[2] == 'p' and ARGV[3] or nil, ARGV[9])
          status = 1
        else
          last = tonumber(s[1])
          if tonumber(s[2] or '0') ~= gen then
            last = last + 1000000000
            redis.call('HSET', KEYS[2], 'gen', string.format('%d', gen))
          end
        end
        local n = (#ARGV - 9) / 2
        if last + n > 9007199254740991 then return redis.error_reply('ERR the sensor has used every sequence below 2^53') end
        local parts = { '@' .. ARGV[8], string.format('%d', last + 1) }
        for i = 1, n do
          local tk = ARGV[8 + 2 * i]
          local v = ARGV[9 + 2 * i]
          redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], string.format('%d', last + i) .. '-0', 't', tk, 'v', v)
          parts[#parts + 1] = tk
          parts[#parts + 1] = v
        end
        redis.call('HSET', KEYS[2], 'last', string.format('%d', last + n), 'lt', ARGV[#ARGV - 1], 'lv', ARGV[#ARGV], 'at', string.format('%d', nowms))
        redis.call('HINCRBY', KEYS[1], 'published', n)
        redis.call('PUBLISH', ARGV[7], table.concat(parts, ' '))
        return { status, last + 1, kind }
        """;

    /// <summary>
    /// Registers one of the server's own sensors whatever the caps, or gives a known one these fields and takes it from
    /// the publisher that registered it. KEYS: meta, sensor, ids, publishers. ARGV: id, name, kind, has unit (1/0), unit,
    /// the sensors' channel (where a registration is announced). Returns 1 when it was added.
    /// </summary>
    public const string Register = Prelude + """
        local s = redis.call('HMGET', KEYS[2], 'first', 'registrar')
        if not s[1] then
          register(KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], KEYS[4], nil, ARGV[6])
        else
          redis.call('HSET', KEYS[2], 'name', ARGV[2], 'kind', ARGV[3])
          if s[2] then
            redis.call('HDEL', KEYS[2], 'registrar')
            if redis.call('HINCRBY', KEYS[4], s[2], -1) <= 0 then redis.call('HDEL', KEYS[4], s[2]) end
          end
        end
        if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'unit', ARGV[5]) else redis.call('HDEL', KEYS[2], 'unit') end
        if s[1] then return 0 end
        return 1
        """;

    /// <summary>
    /// Removes a sensor a publisher registered when neither a reading (<c>at</c>) nor a node's subscriber (<c>seen</c>)
    /// touched it for the idle time; idempotent, so any node may sweep at any time. The floor for sensors registered
    /// anew goes one past its last sequence (so one registered anew starts with a jump); the removal is announced on
    /// the sensors' channel, with the change counter and its last sequence. KEYS: meta, sensor, history, ids, publishers. ARGV: id, idle
    /// milliseconds, the sensors' channel. Returns 1 when it was removed.
    /// </summary>
    public const string RemoveIdle = """
        local s = redis.call('HMGET', KEYS[2], 'registrar', 'at', 'seen', 'last')
        if not s[1] then return 0 end
        local t = redis.call('TIME')
        local nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local touched = math.max(tonumber(s[2] or '0'), tonumber(s[3] or '0'))
        if nowms - touched < tonumber(ARGV[2]) then return 0 end
        local hwm = tonumber(redis.call('HGET', KEYS[1], 'hwm') or '0')
        -- One past its last: a sensor registered anew under the id starts with a jump, which tells a node's router
        -- that the channel's readings are a new sensor's (RedisFeedRouter.ForgetSharedIfRenewedAsync).
        local floor = tonumber(s[4]) + 1
        if floor > hwm then redis.call('HSET', KEYS[1], 'hwm', string.format('%d', floor)) end
        redis.call('DEL', KEYS[2], KEYS[3])
        redis.call('ZREM', KEYS[4], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'sensors', -1)
        if redis.call('HINCRBY', KEYS[5], s[1], -1) <= 0 then redis.call('HDEL', KEYS[5], s[1]) end
        local c = redis.call('HINCRBY', KEYS[1], 'changes', 1)
        redis.call('PUBLISH', ARGV[3], '-' .. string.format('%d', c) .. ' ' .. ARGV[1] .. ' ' .. s[4])
        return 1
        """;

    /// <summary>
    /// A node that has subscribers on a sensor says so (<c>seen</c>), so that no node's sweep removes it; a sensor
    /// removed meanwhile is not made again. KEYS: sensor. Returns the sensor's newest sequence, or nil when it is gone.
    /// </summary>
    public const string Seen = """
        local last = redis.call('HGET', KEYS[1], 'last')
        if not last then return nil end
        local t = redis.call('TIME')
        redis.call('HSET', KEYS[1], 'seen', string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
        return last
        """;
}
