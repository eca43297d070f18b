using Resilient.Integrations.Alerts;
using StackExchange.Redis;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>
/// One alert per integration, identity and sink per cooldown across instances, decided atomically by a Lua script: the
/// claim key holds the severity sent and its number; a count key keeps the repeats held back until the next alert sent reports
/// them. A more severe alert always wins the claim. An episode ends with the recovery: a claim made before the last
/// recovery holds nothing back, and a recovery is held back only when no alert was sent since the last one, so the next
/// outage alerts, and is resolved, even within the cooldown.
/// </summary>
internal sealed class RedisAlertClaims(RedisConnection connection) : IAlertClaims
{
    public TimeSpan Timeout => connection.Timeout;

    // @claim: "severity:number", expires with the cooldown; @held: repeats held back; @marks: a counter numbering every
    // alert sent to this sink for the integration, and the numbers of the last alert and the last recovery, so order is exact.
    private static readonly LuaScript Claim = LuaScript.Prepare("""
        local sent = redis.call('GET', @claim)
        local sentSeverity, sentAt = -1, -1
        if sent then
          local colon = string.find(sent, ':', 1, true)
          sentSeverity = tonumber(string.sub(sent, 1, (colon or 0) - 1)) or -1
          sentAt = colon and tonumber(string.sub(sent, colon + 1)) or -1
        end
        local ends = tonumber(@ends) == 1
        local since = tonumber(redis.call('HGET', @marks, ends and 'alerted' or 'recovered') or '-1')
        if sentSeverity >= tonumber(@severity) and sentAt >= since then
          redis.call('INCR', @held)
          redis.call('PEXPIRE', @held, math.max(tonumber(@cooldown) * 10, 3600000))
          return {0, 0}
        end
        local now = redis.call('HINCRBY', @marks, 'sent', 1)
        redis.call('SET', @claim, @severity .. ':' .. now, 'PX', @cooldown)
        redis.call('HSET', @marks, ends and 'recovered' or 'alerted', now)
        redis.call('PEXPIRE', @marks, math.max(tonumber(@cooldown) * 10, 86400000))
        local held = tonumber(redis.call('GET', @held) or '0')
        redis.call('DEL', @held)
        return {1, held}
        """);

    public async ValueTask<AlertClaim> ClaimAsync(AlertClaimRequest request, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        // One hash tag per integration and sink: the script's keys share a cluster slot.
        string episode = connection.KeyPrefix + "alert:{" + Hash(request.Integration + "\n" + request.Sink) + "}";
        string key = episode + ":" + Hash(request.Identity);
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            Claim,
            new
            {
                claim = (RedisKey)key,
                held = (RedisKey)(key + ":held"),
                marks = (RedisKey)(episode + ":marks"),
                severity = (int)request.Severity,
                cooldown = (long)Math.Max(1, request.Cooldown.TotalMilliseconds),
                ends = request.EndsEpisode ? 1 : 0,
            }).ConfigureAwait(false))!;
        return new AlertClaim((int)result[0] == 1, (int)result[1]);
    }

    // Keys carry no integration names or message text: hashes.
    private static string Hash(string text) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32];
}
