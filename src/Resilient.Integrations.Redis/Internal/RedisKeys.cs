using System.Security.Cryptography;
using System.Text;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>Keys carry no integration names or message text: a hash of what identifies them.</summary>
internal static class RedisKeys
{
    public static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    /// <summary>The caller's clock in milliseconds since the epoch, or -1: the script then reads Redis's own (<c>TIME</c>), which all instances share.</summary>
    public static long Milliseconds(DateTimeOffset? now) => now?.ToUnixTimeMilliseconds() ?? -1;

    /// <summary>The Lua that sets <c>now</c> from the caller's clock, or from Redis's when the caller passed -1.</summary>
    public const string Now = """
        local now = tonumber(@now)
        if now < 0 then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        """ + "\n";
}
