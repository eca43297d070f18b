using System.Text;
using System.Text.Json;
using Resilient.Integrations.Classification.Internal;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Reads Meta's Graph API error (<c>{"error":{"type":"OAuthException","code":190,"error_subcode":463,"is_transient":false}}</c>)
/// and its usage headers. The numeric code is what names the failure; the HTTP status (400 for nearly all) does not.
/// </summary>
internal static class MetaGraphError
{
    [ThreadStatic]
    private static (string? Body, Parsed Value) t_last;

    /// <summary>Rate-limit codes: 4 app, 17 user, 32 page, 613 custom, 341 app limit, 80000–80014 business use case.</summary>
    public static bool IsRateLimit(int code) => code is 4 or 17 or 32 or 341 or 613 || code is >= 80000 and <= 80014;

    public static Parsed Read(string body)
    {
        // Several profile rules ask in turn about one body: parse it once.
        var last = t_last;
        if (ReferenceEquals(last.Body, body))
        {
            return last.Value;
        }

        var parsed = Parse(body);
        t_last = (body, parsed);
        return parsed;
    }

    /// <summary>How long the usage headers say to wait: Business Use Case <c>estimated_time_to_regain_access</c> (minutes), ad account <c>reset_time_duration</c> (seconds).</summary>
    public static TimeSpan? UsageWait(Func<string, string?> header) =>
        RetryHintParser.Max(
            header("X-Business-Use-Case-Usage") is { } buc ? JsonMembers.LargestDuration(buc, "estimated_time_to_regain_access", TimeSpan.FromMinutes(1)) : null,
            header("X-Ad-Account-Usage") is { } ad ? JsonMembers.LargestDuration(ad, "reset_time_duration", TimeSpan.FromSeconds(1)) : null) is { } wait && wait > TimeSpan.Zero
            ? wait
            : null;

    /// <summary>What a <c>debug_token</c> answer says: <c>data.is_valid</c> and <c>data.expires_at</c> (0 means never).</summary>
    public static (bool? Valid, DateTimeOffset? ExpiresAt) Inspect(string body)
    {
        bool? valid = body.Contains("\"is_valid\":false", StringComparison.Ordinal) || body.Contains("\"is_valid\": false", StringComparison.Ordinal) ? false
            : body.Contains("\"is_valid\"", StringComparison.Ordinal) ? true : null;
        var expires = JsonMembers.FirstNumber(body, "expires_at") is double seconds and > 0 and < 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds((long)seconds)
            : (DateTimeOffset?)null;
        return (valid, expires);
    }

    private static Parsed Parse(string body)
    {
        if (!body.Contains("\"error\"", StringComparison.Ordinal))
        {
            return default;
        }

        int? code = null;
        bool? transient = null;
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(body), isFinalBlock: false, default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 2)
                {
                    continue;
                }

                int field = reader.ValueTextEquals("code"u8) ? 1 : reader.ValueTextEquals("is_transient"u8) ? 3 : 0;
                if (field == 0 || !reader.Read())
                {
                    continue;
                }

                if (field == 3 && reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                {
                    transient = reader.GetBoolean();
                }
                else if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int value))
                {
                    code = value;
                }
            }
        }
        catch (JsonException)
        {
            // A cut-off prefix: what was read before the cut stands.
        }

        return new Parsed(code, transient);
    }

    internal readonly record struct Parsed(int? Code, bool? Transient);
}
