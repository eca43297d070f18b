using System.Globalization;
using Resilient.Integrations.Policies;
using StackExchange.Redis;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>
/// The pacing gate's bucket, kept in one Redis hash per integration and changed only by Lua scripts, so every instance
/// takes from and teaches the same budget atomically: slots refill at the rate learned from the provider's headers, a
/// hold after a 429 holds everyone, and a new hold is published so instances not consulting the bucket hold too.
/// </summary>
internal sealed class RedisRateBudget(RedisConnection connection) : ISharedRateBudget
{
    private const string HoldChannel = "pacing-holds";
    private static readonly long KeepFor = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    // Fields: slots (double; absent until a budget is known), rate (slots per second), limit, updated (ms), hold (ms), taken (count).
    private static readonly LuaScript Take = LuaScript.Prepare(RedisKeys.Now + """
        local f = redis.call('HMGET', @budget, 'slots', 'rate', 'limit', 'updated', 'hold', 'taken')
        local slots, rate, limit = tonumber(f[1]), tonumber(f[2]) or 0, tonumber(f[3]) or 0
        local updated, hold, taken = tonumber(f[4]) or now, tonumber(f[5]) or 0, tonumber(f[6]) or 0
        local wait = math.max(0, hold - now)
        local left = nil
        if rate > 0 then
          slots = math.min(limit, (slots or limit) + math.max(0, now - updated) / 1000 * rate)
          left = slots - 1
          if left < 0 then wait = math.max(wait, -left / rate * 1000) end
        end
        if wait > tonumber(@maxWait) then
          if left then redis.call('HSET', @budget, 'slots', tostring(slots), 'updated', now) end
          return {0, math.ceil(wait), taken, now}
        end
        taken = taken + 1
        if left then
          redis.call('HSET', @budget, 'slots', tostring(left), 'updated', now, 'taken', taken)
        else
          redis.call('HSET', @budget, 'taken', taken)
        end
        redis.call('PEXPIRE', @budget, @keep)
        return {1, math.ceil(wait), taken, now}
        """);

    private static readonly LuaScript Learn = LuaScript.Prepare(RedisKeys.Now + """
        local f = redis.call('HMGET', @budget, 'slots', 'rate', 'limit', 'updated', 'hold', 'taken')
        local slots, rate, known = tonumber(f[1]), tonumber(f[2]) or 0, tonumber(f[3]) or 0
        local updated, hold, taken = tonumber(f[4]) or now, tonumber(f[5]) or 0, tonumber(f[6]) or 0
        local holdFor = tonumber(@hold)
        if holdFor > 0 and now + holdFor > hold then
          redis.call('HSET', @budget, 'hold', now + holdFor)
          redis.call('PUBLISH', @channel, @integration .. '\n' .. holdFor)
        end
        local limit = tonumber(@limit)
        if limit > 0 then
          if rate > 0 and slots then slots = math.min(known, slots + math.max(0, now - updated) / 1000 * rate) end
          if limit ~= known then rate = 0 end
          local remaining, untilFull = tonumber(@remaining), tonumber(@untilFull)
          if limit - remaining > 1 and untilFull > 0 then rate = math.max(rate, (limit - remaining - 1) / (untilFull / 1000)) end
          local asOfNow = remaining
          local sentAt = tonumber(@sentAt)
          if sentAt > 0 then asOfNow = asOfNow + math.max(0, now - sentAt) / 1000 * rate - (taken - tonumber(@sentTaken)) end
          slots = math.min(slots or limit, math.min(limit, asOfNow))
          redis.call('HSET', @budget, 'slots', tostring(slots), 'rate', tostring(rate), 'limit', limit, 'updated', now)
        elseif tonumber(@spent) == 1 and rate > 0 then
          if slots then slots = math.min(known, slots + math.max(0, now - updated) / 1000 * rate) end
          redis.call('HSET', @budget, 'slots', tostring(math.min(slots or 0, 0)), 'rate', tostring(rate * 0.9), 'updated', now)
        end
        redis.call('PEXPIRE', @budget, @keep)
        return 1
        """);

    private readonly List<Action<RateBudgetHold>> _listeners = [];
    private int _subscribed;

    public TimeSpan Timeout => connection.Timeout;

    public async ValueTask<RateBudgetGrant> TakeAsync(RateBudgetRequest request, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            Take,
            new
            {
                budget = Key(request.Integration),
                now = RedisKeys.Milliseconds(request.Now),
                maxWait = (long)Math.Min(request.MaxWait.TotalMilliseconds, long.MaxValue / 2),
                keep = KeepFor,
            }).ConfigureAwait(false))!;
        return new RateBudgetGrant((int)result[0] == 1, TimeSpan.FromMilliseconds((long)result[1]), (long)result[2], (long)result[3]);
    }

    public async ValueTask ReportAsync(RateBudgetReport report, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await database.ScriptEvaluateAsync(
            Learn,
            new
            {
                budget = Key(report.Integration),
                channel = connection.PublishedChannel(HoldChannel),
                integration = report.Integration,
                now = RedisKeys.Milliseconds(report.Now),
                hold = (long)Math.Ceiling(report.Hold.TotalMilliseconds),
                limit = report.Limit,
                remaining = report.Remaining,
                untilFull = (long)report.UntilFull.TotalMilliseconds,
                sentAt = report.Sent.At,
                sentTaken = report.Sent.Taken,
                spent = report.Spent ? 1 : 0,
                keep = KeepFor,
            }).ConfigureAwait(false);
    }

    public void OnHold(Action<RateBudgetHold> onHold)
    {
        ArgumentNullException.ThrowIfNull(onHold);
        lock (_listeners)
        {
            _listeners.Add(onHold);
        }

        if (Interlocked.Exchange(ref _subscribed, 1) == 0)
        {
            connection.Subscribe(HoldChannel, Heard);
        }
    }

    private void Heard(RedisValue message)
    {
        string text = message.ToString();
        int split = text.LastIndexOf('\n');
        if (split <= 0 || !long.TryParse(text.AsSpan(split + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long milliseconds))
        {
            return;
        }

        var hold = new RateBudgetHold(text[..split], TimeSpan.FromMilliseconds(milliseconds));
        Action<RateBudgetHold>[] listeners;
        lock (_listeners)
        {
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            listener(hold);
        }
    }

    private RedisKey Key(string integration) => connection.KeyPrefix + "pacing:" + RedisKeys.Hash(integration);
}
