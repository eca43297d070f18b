namespace Resilient.Integrations.Classification.Internal;

/// <summary>
/// Error codes that public APIs put in 4xx bodies where the status alone names the wrong kind: a 429 that is
/// really a spent billing quota, or a 403 that is really a rate limit.
/// </summary>
internal static class WellKnownErrorCodes
{
    private static readonly string[] QuotaCodes =
    [
        "insufficient_quota",               // OpenAI: billing quota spent
        "billing_hard_limit_reached",       // OpenAI
        "enforced_spend_limit_reached",     // Anthropic: workspace spend limit
        "quotaExceeded",                    // Google APIs
        "dailyLimitExceeded",               // Google APIs
        "REQUEST_LIMIT_EXCEEDED",           // Salesforce: rolling 24-hour API request limit
        "PerDay",                           // Gemini: a per-day quotaId (e.g. GenerateRequestsPerDayPerProjectPerModel)
        "limit: 0",                         // Gemini: a quota of zero (free tier not available)
    ];

    private static readonly string[] RateLimitCodes =
    [
        "rateLimitExceeded",                // Google APIs answer these with 403
        "userRateLimitExceeded",
    ];

    /// <summary>Refines the kind of a 400, 403 or 429 by the codes present in its body or envelope.</summary>
    public static FailureKind Refine(FailureKind kind, int status, string? providerCode, string? body)
    {
        if (status is not (400 or 403 or 429))
        {
            return kind;
        }

        if (Mentions(QuotaCodes, providerCode, body))
        {
            return FailureKind.QuotaExhausted;
        }

        return status == 403 && Mentions(RateLimitCodes, providerCode, body) ? FailureKind.RateLimit : kind;
    }

    private static bool Mentions(string[] codes, string? providerCode, string? body)
    {
        foreach (var code in codes)
        {
            if (string.Equals(providerCode, code, StringComparison.Ordinal) ||
                (body is not null && body.Contains(code, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
