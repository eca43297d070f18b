using System.Text.Json;

namespace Resilient.Integrations.Credentials.Internal;

/// <summary>
/// Reads the <c>exp</c> (and <c>iat</c>) claims of a JWT: the payload is base64url-decoded and read, never validated;
/// nothing of the token is kept, logged or returned but the two times.
/// </summary>
internal static class JwtExpiry
{
    public static bool TryRead(ReadOnlySpan<char> token, out DateTimeOffset expiresAt, out DateTimeOffset? issuedAt)
    {
        expiresAt = default;
        issuedAt = null;
        token = token.Trim();
        int first = token.IndexOf('.');
        if (first <= 0)
        {
            return false;
        }

        var rest = token[(first + 1)..];
        int second = rest.IndexOf('.');
        if (second <= 0 || second > 16 * 1024)
        {
            return false;
        }

        // base64url to base64 (Base64Url itself is not in net8.0's box).
        var payload = rest[..second];
        var base64 = new char[payload.Length + 3];
        for (int i = 0; i < payload.Length; i++)
        {
            base64[i] = payload[i] switch { '-' => '+', '_' => '/', var c => c };
        }

        int length = payload.Length;
        while (length % 4 != 0)
        {
            base64[length++] = '=';
        }

        byte[] json = new byte[(length / 4 * 3) + 3];
        if (!Convert.TryFromBase64Chars(base64.AsSpan(0, length), json, out int written))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json.AsSpan(0, written));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            long? exp = null, iat = null;
            while (reader.Read() && reader.CurrentDepth >= 1)
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                bool isExp = reader.ValueTextEquals("exp"u8), isIat = reader.ValueTextEquals("iat"u8);
                if (!reader.Read())
                {
                    break;
                }

                if ((isExp || isIat) && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double seconds) && seconds is > 0 and < 253402300799)
                {
                    if (isExp) { exp = (long)seconds; } else { iat = (long)seconds; }
                }
                else
                {
                    reader.TrySkip();
                }
            }

            if (exp is not { } e)
            {
                return false;
            }

            expiresAt = DateTimeOffset.FromUnixTimeSeconds(e);
            issuedAt = iat is { } i ? DateTimeOffset.FromUnixTimeSeconds(i) : null;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
