using Resilient.Integrations.Alerts;
using StackExchange.Redis;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>
/// One alert per integration, identity and sink per cooldown across instances, decided atomically by a Lua script: the
/// claim key holds the severity sent and expires with the cooldown; a count key keeps the repeats held back until the
/// next alert sent reports them. A more severe alert always wins the claim.
/// </summary>
internal sealed class RedisAlertClaims(RedisConnection connection) : IAlertClaims
{
    public TimeSpan Timeout => connection.Timeout;

    // KEYS[1] claim (severity sent, expires with the cooldown), KEYS[2] repeats held back; ARGV[1] severity, ARGV[2] cooldown ms.
    private static readonly LuaScript Claim = LuaScript.Prepare("""
        local sent = redis.call('GET', @claim)
        if sent and tonumber(sent) >= tonumber(@severity) then
          redis.call('INCR', @held)
          redis.call('PEXPIRE', @held, math.max(tonumber(@cooldown) * 10, 3600000))
          return {0, 0}
        end
        redis.call('SET', @claim, @severity, 'PX', @cooldown)
        local held = tonumber(redis.call('GET', @held) or '0')
        redis.call('DEL', @held)
        return {1, held}
        """);

    public async ValueTask<AlertClaim> ClaimAsync(AlertClaimRequest request, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        // One hash tag for both keys: the script touches one cluster slot.
        string key = connection.KeyPrefix + "alert:{" + Hash(request.Identity + "\n" + request.Sink) + "}";
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            Claim,
            new
            {
                claim = (RedisKey)key,
                held = (RedisKey)(key + ":held"),
                severity = (int)request.Severity,
                cooldown = (long)Math.Max(1, request.Cooldown.TotalMilliseconds),
            }).ConfigureAwait(false))!;
        return new AlertClaim((int)result[0] == 1, (int)result[1]);
    }

    // Keys carry no integration names or message text: a hash of the identity and the sink.
    private static string Hash(string text) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32];
}
