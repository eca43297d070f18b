using System.Globalization;
using System.Net.Http.Headers;

namespace Resilient.Integrations.Classification.Internal;

/// <summary>The families of rate-limit headers an answer may carry; found in one pass over its header names.</summary>
[Flags]
internal enum RateLimitFamilies
{
    None = 0,

    /// <summary>OpenAI's <c>x-ratelimit-*-requests|tokens</c>.</summary>
    OpenAI = 1,

    /// <summary>Anthropic's <c>anthropic-ratelimit-*</c>.</summary>
    Anthropic = 2,

    /// <summary>The de-facto <c>X-RateLimit-Limit|Remaining|Reset</c> (GitHub, SendGrid and many more).</summary>
    XRateLimit = 4,

    /// <summary>The older IETF draft's <c>RateLimit-Limit|Remaining|Reset</c>.</summary>
    IetfFields = 8,

    /// <summary>The IETF structured fields <c>RateLimit</c> and <c>RateLimit-Policy</c>.</summary>
    IetfStructured = 16,
}

/// <summary>
/// Reads the rate-limit header dialects most APIs share, with no configuration: <c>X-RateLimit-*</c> and the
/// older IETF <c>RateLimit-Limit|Remaining|Reset</c>, whose reset is epoch seconds (GitHub, SendGrid) or seconds to
/// wait (others), and the IETF structured fields (<c>RateLimit: "default";r=0;t=30</c>,
/// <c>RateLimit-Policy: "default";q=100;w=60</c>, and draft-07's <c>limit=, remaining=, reset=</c>).
/// </summary>
internal static class RateLimitFields
{
    // Any reset at or above this is an epoch (2001-09-09 in seconds); no API asks for a wait of 31 years.
    private const double EpochSeconds = 1e9;
    private const double EpochMilliseconds = 1e12;

    // An epoch this far in the past is a wrong clock or garbage, not "the window has just reset".
    private static readonly TimeSpan MaxPast = TimeSpan.FromDays(1);

    private static readonly (string Limit, string Remaining, string Reset)[] Fields =
    [
        ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"),
        ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),
    ];

    /// <summary>Which families an answer carries, from one pass over its header names (no value is read).</summary>
    public static RateLimitFamilies Present(HttpHeaders headers)
    {
        var found = RateLimitFamilies.None;
        foreach (var header in headers.NonValidated)
        {
            string name = header.Key;
            if (name.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase))
            {
                found |= name.EndsWith("-requests", StringComparison.OrdinalIgnoreCase) || name.EndsWith("-tokens", StringComparison.OrdinalIgnoreCase)
                    ? RateLimitFamilies.OpenAI
                    : RateLimitFamilies.XRateLimit;
            }
            else if (name.StartsWith("anthropic-ratelimit-", StringComparison.OrdinalIgnoreCase))
            {
                found |= RateLimitFamilies.Anthropic;
            }
            else if (name.StartsWith("ratelimit", StringComparison.OrdinalIgnoreCase))
            {
                found |= name.Length == 9 || name.Equals("ratelimit-policy", StringComparison.OrdinalIgnoreCase)
                    ? RateLimitFamilies.IetfStructured
                    : RateLimitFamilies.IetfFields;
            }
        }

        return found;
    }

    /// <summary>The wait a rate-limited answer's shared fields give: the reset of a spent (or unstated) remaining.</summary>
    public static bool TryReset<THeaders>(THeaders header, TimeProvider time, out TimeSpan hint)
        where THeaders : struct, IHeaderSource
    {
        TimeSpan? wait = null;
        foreach (var (_, remainingName, resetName) in Fields)
        {
            // A window with requests left is not what refused this one (GitHub's secondary limits keep remaining > 0).
            if (header.Get(resetName) is string reset && TryDeltaOrEpoch(reset, time, out var w) &&
                (header.Get(remainingName) is not string remaining || remaining.Trim() == "0"))
            {
                wait = RetryHintParser.Max(wait, w);
            }
        }

        if (Structured(header) is { Reset: { } t } item && item.Remaining is null or 0)
        {
            wait = RetryHintParser.Max(wait, t);
        }

        hint = wait ?? default;
        return wait.HasValue;
    }

    /// <summary>Whether an answer says a shared rate-limit window is spent: remaining 0 in any dialect.</summary>
    public static bool IsSpent<THeaders>(THeaders header)
        where THeaders : struct, IHeaderSource
    {
        foreach (var (_, remainingName, _) in Fields)
        {
            if (header.Get(remainingName) is string remaining && remaining.Trim() == "0")
            {
                return true;
            }
        }

        return Structured(header) is { Remaining: 0 };
    }

    /// <summary>How long until a spent window of a present family resets.</summary>
    public static TimeSpan? SpentReset<THeaders>(THeaders header, RateLimitFamilies families, TimeProvider time)
        where THeaders : struct, IHeaderSource
    {
        TimeSpan? wait = null;
        for (int i = 0; i < Fields.Length; i++)
        {
            var (_, remainingName, resetName) = Fields[i];
            if (families.HasFlag(i == 0 ? RateLimitFamilies.XRateLimit : RateLimitFamilies.IetfFields) &&
                header.Get(remainingName) is string remaining && remaining.Trim() == "0" &&
                header.Get(resetName) is string reset && TryDeltaOrEpoch(reset, time, out var w))
            {
                wait = RetryHintParser.Max(wait, w);
            }
        }

        if (families.HasFlag(RateLimitFamilies.IetfStructured) && Structured(header) is { Remaining: 0, Reset: { } t })
        {
            wait = RetryHintParser.Max(wait, t);
        }

        return wait;
    }

    /// <summary>The request budget of a present family: limit, remaining, and time until the window is full again.</summary>
    public static bool TryBudget<THeaders>(THeaders header, RateLimitFamilies families, TimeProvider time, out int limit, out int remaining, out TimeSpan untilFull)
        where THeaders : struct, IHeaderSource
    {
        for (int i = 0; i < Fields.Length; i++)
        {
            var (limitName, remainingName, resetName) = Fields[i];
            if (families.HasFlag(i == 0 ? RateLimitFamilies.XRateLimit : RateLimitFamilies.IetfFields) &&
                int.TryParse(header.Get(limitName), NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit > 0 &&
                int.TryParse(header.Get(remainingName), NumberStyles.None, CultureInfo.InvariantCulture, out remaining) && remaining <= limit &&
                header.Get(resetName) is string reset && TryDeltaOrEpoch(reset, time, out untilFull))
            {
                return true;
            }
        }

        if (families.HasFlag(RateLimitFamilies.IetfStructured) && Structured(header) is { Remaining: { } r, Reset: { } t, Limit: { } q } && q > 0 && r <= q)
        {
            (limit, remaining, untilFull) = ((int)Math.Min(q, int.MaxValue), (int)r, t);
            return true;
        }

        limit = remaining = 0;
        untilFull = default;
        return false;
    }

    /// <summary>
    /// A reset written as seconds to wait or as an epoch (seconds, or milliseconds), told apart by size: an epoch is
    /// measured against the injected clock, and one far in the past or beyond the longest hint is refused.
    /// </summary>
    public static bool TryDeltaOrEpoch(string value, TimeProvider time, out TimeSpan wait) => TryDeltaOrEpoch(value, time.GetUtcNow(), out wait);

    /// <inheritdoc cref="TryDeltaOrEpoch(string, TimeProvider, out TimeSpan)"/>
    public static bool TryDeltaOrEpoch(string value, DateTimeOffset now, out TimeSpan wait)
    {
        wait = default;
        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out double number))
        {
            return false;
        }

        if (number < EpochSeconds)
        {
            return RetryHintParser.TryFromMilliseconds(number * 1000, out wait);
        }

        double epochMs = number >= EpochMilliseconds ? number : number * 1000;
        double untilMs = epochMs - now.ToUnixTimeMilliseconds();
        return untilMs >= -MaxPast.TotalMilliseconds && RetryHintParser.TryFromMilliseconds(Math.Max(0, untilMs), out wait);
    }

    /// <summary>The most constraining item of the IETF <c>RateLimit</c> field (the lowest remaining), with its policy's quota.</summary>
    private static StructuredItem? Structured<THeaders>(THeaders header)
        where THeaders : struct, IHeaderSource
    {
        if (header.Get("RateLimit") is not string field || ParseItems(field) is not { } item)
        {
            return null;
        }

        if (item.Limit is null && header.Get("RateLimit-Policy") is string policies)
        {
            item = item with { Limit = QuotaOf(policies, item.Name) };
        }

        return item;
    }

    private static double? QuotaOf(string policies, string? name)
    {
        double? first = null;
        foreach (var member in policies.Split(','))
        {
            var parts = member.Split(';', StringSplitOptions.TrimEntries);
            double? quota = null;
            foreach (var part in parts.Skip(1))
            {
                if (Param(part, out string key, out double value) && key is "q" or "limit")
                {
                    quota = value;
                }
            }

            if (name is not null && Unquote(parts[0]) == name)
            {
                return quota;
            }

            first ??= quota;
        }

        return first;
    }

    private static StructuredItem? ParseItems(string field)
    {
        StructuredItem? best = null;
        var loose = new StructuredItem(null, null, null, null); // draft-07: a dictionary of limit=, remaining=, reset=
        bool anyLoose = false;
        foreach (var member in field.Split(','))
        {
            var parts = member.Split(';', StringSplitOptions.TrimEntries);
            if (parts[0].Contains('=', StringComparison.Ordinal))
            {
                anyLoose = true;
                loose = With(loose, parts[0]);
                continue;
            }

            var item = new StructuredItem(Unquote(parts[0]), null, null, null);
            foreach (var part in parts.Skip(1))
            {
                item = With(item, part);
            }

            best = Tighter(best, item);
        }

        return anyLoose ? Tighter(best, loose) : best;
    }

    private static StructuredItem? Tighter(StructuredItem? a, StructuredItem b) =>
        a is null || (b.Remaining ?? double.MaxValue) < (a.Remaining ?? double.MaxValue) ? b : a;

    private static StructuredItem With(StructuredItem item, string part)
    {
        if (!Param(part, out string key, out double value))
        {
            return item;
        }

        return key switch
        {
            "r" or "remaining" => item with { Remaining = value },
            "t" or "reset" when RetryHintParser.TryFromMilliseconds(value * 1000, out var t) => item with { Reset = t },
            "q" or "limit" => item with { Limit = value },
            _ => item,
        };
    }

    private static bool Param(string part, out string key, out double value)
    {
        int eq = part.IndexOf('=', StringComparison.Ordinal);
        key = eq > 0 ? part[..eq].Trim().ToLowerInvariant() : "";
        value = 0;
        return eq > 0 && double.TryParse(part[(eq + 1)..].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value) && value >= 0;
    }

    private static string Unquote(string token) => token.Trim().Trim('"');

    private sealed record StructuredItem(string? Name, double? Remaining, TimeSpan? Reset, double? Limit);
}
