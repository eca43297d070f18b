using System.Globalization;
using System.Net.Http.Headers;

namespace Resilient.Integrations.Classification.Internal;

/// <summary>
/// Finds how long the server asked the client to wait, in the order docs/architecture.md gives ("Retry
/// hints"): the first source present with a usable value wins; garbage and negative values are skipped.
/// </summary>
internal static class RetryHintParser
{
    // A hint longer than this is treated as garbage rather than waited for.
    private static readonly TimeSpan MaxHint = TimeSpan.FromDays(30);

    private static readonly (string Remaining, string Reset)[] OpenAiLimits =
    [
        ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
        ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    ];

    private static readonly (string Remaining, string Reset)[] AnthropicLimits =
    [
        ("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"),
        ("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"),
        ("anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset"),
        ("anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset"),
    ];

    /// <summary>
    /// Reads the server's wait hint from any header source (a response's headers, an SDK's raw response). Rate-limit reset headers describe the
    /// rate limit only, so they count as a hint only when the failure is a rate limit: a 529 or 503 that
    /// happens to carry them must not wait for the next rate window.
    /// </summary>
    public static TimeSpan? FromHeaders<THeaders>(THeaders header, TimeProvider timeProvider, bool rateLimited)
        where THeaders : struct, IHeaderSource
    {
        if (TryMilliseconds(header.Get("retry-after-ms"), out var hint) ||
            TryMilliseconds(header.Get("x-ms-retry-after-ms"), out hint) ||
            TryRetryAfter(header.Get("Retry-After"), timeProvider, out hint) ||
            (rateLimited && TryResets(header, OpenAiLimits, timeProvider, out hint)) ||
            (rateLimited && TryResets(header, AnthropicLimits, timeProvider, out hint)) ||
            (rateLimited && RateLimitFields.TryReset(header, timeProvider, out hint)))
        {
            return hint;
        }

        return null;
    }

    /// <summary>Reads a hint from an error body: Gemini's <c>retryDelay</c>, or text such as "try again in 45.19s".</summary>
    public static TimeSpan? FromBody(string body)
    {
        if (TryAfterMarker(body, "\"retryDelay\"", quoted: true, out var hint) ||
            TryAfterMarker(body, "try again in ", quoted: false, out hint))
        {
            return hint;
        }

        return null;
    }

    /// <summary>
    /// Reads one wait written any common way: seconds or an epoch (told apart by size), an HTTP-date, an RFC 3339
    /// timestamp or a Go-style duration. Dates are measured against <paramref name="now"/>; a past one means no wait.
    /// </summary>
    public static bool TryParseValue(string value, DateTimeOffset now, out TimeSpan wait)
    {
        if (RateLimitFields.TryDeltaOrEpoch(value, now, out wait) || GoDuration.TryParse(value, out wait))
        {
            return true;
        }

        var text = value.Trim();
        if (DateTimeOffset.TryParseExact(text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ||
            (text.Contains('T', StringComparison.Ordinal) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date)))
        {
            return TryFromMilliseconds(Math.Max(0, (date - now).TotalMilliseconds), out wait);
        }

        return false;
    }

    /// <summary>Reads <c>x-should-retry</c>: the server's own word on whether a retry is allowed.</summary>
    public static bool? ShouldRetry(string? header) =>
        header switch
        {
            string v when v.Trim().Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            string v when v.Trim().Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            _ => null,
        };

    internal static bool TryFromMilliseconds(double milliseconds, out TimeSpan hint)
    {
        if (double.IsFinite(milliseconds) && milliseconds >= 0 && milliseconds <= MaxHint.TotalMilliseconds)
        {
            hint = TimeSpan.FromTicks((long)(milliseconds * TimeSpan.TicksPerMillisecond));
            return true;
        }

        hint = default;
        return false;
    }

    internal static string? First(HttpHeaders headers, string name)
    {
        if (headers.NonValidated.TryGetValues(name, out var values))
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        return null;
    }

    private static bool TryMilliseconds(string? value, out TimeSpan hint)
    {
        hint = default;
        return value is not null &&
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) &&
            TryFromMilliseconds(ms, out hint);
    }

    private static bool TryRetryAfter(string? value, TimeProvider timeProvider, out TimeSpan hint)
    {
        hint = default;
        if (value is null)
        {
            return false;
        }

        if (double.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out double seconds))
        {
            return TryFromMilliseconds(seconds * 1000, out hint);
        }

        // An HTTP-date is measured against the injected clock; a date already past means "now".
        if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            return TryUntil(date, timeProvider, out hint);
        }

        return false;
    }

    /// <summary>
    /// Reads the request budget a provider reports on every answer: limit, remaining and time until full
    /// (OpenAI <c>x-ratelimit-*-requests</c>, Anthropic <c>anthropic-ratelimit-requests-*</c>, then the shared
    /// <c>X-RateLimit-*</c> and IETF fields), looking up only the <paramref name="families"/> the answer carries.
    /// </summary>
    public static bool TryRequestBudget(HttpResponseHeaders headers, RateLimitFamilies families, TimeProvider timeProvider, out int limit, out int remaining, out TimeSpan untilFull)
    {
        var source = new HttpHeaderSource(headers);
        return (families.HasFlag(RateLimitFamilies.OpenAI) &&
                TryBudget(source, "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", timeProvider, out limit, out remaining, out untilFull)) ||
            (families.HasFlag(RateLimitFamilies.Anthropic) &&
                TryBudget(source, "anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", timeProvider, out limit, out remaining, out untilFull)) ||
            RateLimitFields.TryBudget(source, families, timeProvider, out limit, out remaining, out untilFull);
    }

    private static bool TryBudget<THeaders>(
        THeaders header, string limitName, string remainingName, string resetName, TimeProvider timeProvider, out int limit, out int remaining, out TimeSpan untilFull)
        where THeaders : struct, IHeaderSource
    {
        remaining = 0;
        untilFull = default;
        return int.TryParse(header.Get(limitName), NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit > 0 &&
            int.TryParse(header.Get(remainingName), NumberStyles.None, CultureInfo.InvariantCulture, out remaining) && remaining <= limit &&
            header.Get(resetName) is string reset && TryReset(reset, timeProvider, out untilFull);
    }

    /// <summary>How long until a spent limit (remaining 0) resets, from OpenAI, Anthropic, <c>X-RateLimit-*</c> or IETF headers on any response.</summary>
    public static TimeSpan? SpentLimitReset(HttpResponseHeaders headers, RateLimitFamilies families, TimeProvider timeProvider)
    {
        // One pass over the names (by the caller) decides which families to look up: most answers carry none of them.
        if (families == RateLimitFamilies.None)
        {
            return null;
        }

        var source = new HttpHeaderSource(headers);
        var (spentOpenAi, _) = families.HasFlag(RateLimitFamilies.OpenAI) ? Resets(source, OpenAiLimits, timeProvider) : default;
        var (spentAnthropic, _) = families.HasFlag(RateLimitFamilies.Anthropic) ? Resets(source, AnthropicLimits, timeProvider) : default;
        return Max(Max(spentOpenAi, spentAnthropic), RateLimitFields.SpentReset(source, families, timeProvider));
    }

    private static bool TryResets<THeaders>(THeaders header, (string Remaining, string Reset)[] limits, TimeProvider timeProvider, out TimeSpan hint)
        where THeaders : struct, IHeaderSource
    {
        // The limit that is spent (remaining 0) is the one that caused the 429; without that signal, wait for the longest.
        var (spent, any) = Resets(header, limits, timeProvider);
        hint = spent ?? any ?? default;
        return spent.HasValue || any.HasValue;
    }

    private static (TimeSpan? Spent, TimeSpan? Any) Resets<THeaders>(THeaders header, (string Remaining, string Reset)[] limits, TimeProvider timeProvider)
        where THeaders : struct, IHeaderSource
    {
        TimeSpan? spent = null, any = null;
        foreach (var (remainingName, resetName) in limits)
        {
            if (header.Get(resetName) is not string reset || !TryReset(reset, timeProvider, out var wait))
            {
                continue;
            }

            any = Max(any, wait);
            if (header.Get(remainingName) is string remaining && remaining.Trim() == "0")
            {
                spent = Max(spent, wait);
            }
        }

        return (spent, any);
    }

    internal static TimeSpan? Max(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static bool TryReset(string value, TimeProvider timeProvider, out TimeSpan hint)
    {
        // OpenAI writes a Go duration ("6m0s"); Anthropic an RFC 3339 timestamp.
        if (GoDuration.TryParse(value, out hint))
        {
            return true;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) &&
            value.Contains('T', StringComparison.Ordinal) &&
            TryUntil(date, timeProvider, out hint);
    }

    private static bool TryUntil(DateTimeOffset date, TimeProvider timeProvider, out TimeSpan hint)
    {
        var wait = date - timeProvider.GetUtcNow();
        return TryFromMilliseconds(Math.Max(0, wait.TotalMilliseconds), out hint);
    }

    private static bool TryAfterMarker(string body, string marker, bool quoted, out TimeSpan hint)
    {
        hint = default;
        int at = body.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return false;
        }

        var rest = body.AsSpan(at + marker.Length);
        if (quoted)
        {
            // "retryDelay": "10s"
            rest = rest.TrimStart().TrimStart(':').TrimStart();
            if (rest.IsEmpty || rest[0] != '"')
            {
                return false;
            }

            rest = rest[1..];
            int close = rest.IndexOf('"');
            return close > 0 && GoDuration.TryParse(rest[..close], out hint);
        }

        int end = 0;
        while (end < rest.Length && !char.IsWhiteSpace(rest[end]) && rest[end] is not ('"' or ',' or ')' or ';'))
        {
            end++;
        }

        return GoDuration.TryParse(rest[..end].TrimEnd('.'), out hint);
    }
}

/// <summary>Where retry hints and rule headers are read from; a struct so that reading a response's headers allocates nothing.</summary>
internal interface IHeaderSource
{
    string? Get(string name);

    /// <summary>Whether any value of the header satisfies <paramref name="predicate"/>.</summary>
    bool Any(string name, Func<string, bool> predicate);
}

/// <summary>One collection of headers of an <see cref="HttpResponseMessage"/>.</summary>
internal readonly struct HttpHeaderSource(HttpHeaders headers) : IHeaderSource
{
    public string? Get(string name) => RetryHintParser.First(headers, name);

    public bool Any(string name, Func<string, bool> predicate)
    {
        if (headers.NonValidated.TryGetValues(name, out var values))
        {
            foreach (var value in values)
            {
                if (predicate(value))
                {
                    return true;
                }
            }
        }

        return false;
    }
}

/// <summary>A response's headers, where a rule's header may also be one of the content's (Content-Type).</summary>
internal readonly struct ResponseHeaderSource(HttpResponseMessage response) : IHeaderSource
{
    public string? Get(string name) => RetryHintParser.First(response.Headers, name);

    public bool Any(string name, Func<string, bool> predicate) =>
        new HttpHeaderSource(response.Headers).Any(name, predicate) || new HttpHeaderSource(response.Content.Headers).Any(name, predicate);
}

/// <summary>The headers of an SDK's raw response (System.ClientModel), if it has one.</summary>
internal readonly struct RawResponseHeaderSource(System.ClientModel.Primitives.PipelineResponse? raw) : IHeaderSource
{
    public string? Get(string name) => raw is not null && raw.Headers.TryGetValue(name, out string? value) ? value : null;

    public bool Any(string name, Func<string, bool> predicate) => Get(name) is { } value && predicate(value);
}

/// <summary>An answer whose headers were not kept.</summary>
internal readonly struct NoHeaderSource : IHeaderSource
{
    public string? Get(string name) => null;

    public bool Any(string name, Func<string, bool> predicate) => false;
}
