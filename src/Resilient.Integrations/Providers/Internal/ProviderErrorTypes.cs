using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// The error types and codes AI providers document (docs/architecture.md, "Provider facts"), with the kind each means. Used where the
/// status says nothing: an <c>event: error</c> inside a 200 event stream, or a 400 that is really a bad key.
/// </summary>
internal static class ProviderErrorTypes
{
    private static readonly Dictionary<string, FailureKind> Kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        // Anthropic error.type
        ["overloaded_error"] = FailureKind.Unavailable,
        ["api_error"] = FailureKind.Unavailable,
        ["rate_limit_error"] = FailureKind.RateLimit,
        ["authentication_error"] = FailureKind.Auth,
        ["permission_error"] = FailureKind.Auth,
        ["billing_error"] = FailureKind.QuotaExhausted,
        ["timeout_error"] = FailureKind.Timeout,
        ["invalid_request_error"] = FailureKind.Rejected,
        ["request_too_large"] = FailureKind.Rejected,
        ["not_found_error"] = FailureKind.Rejected,

        // OpenAI and Azure OpenAI error.code / error.type
        ["server_error"] = FailureKind.Unavailable,
        ["rate_limit_exceeded"] = FailureKind.RateLimit,
        ["insufficient_quota"] = FailureKind.QuotaExhausted,
        ["invalid_api_key"] = FailureKind.Auth,
        ["context_length_exceeded"] = FailureKind.Rejected,
        ["content_filter"] = FailureKind.Rejected,
        ["unsupported_country_region_territory"] = FailureKind.Rejected,

        // Gemini error.status (google.rpc.Code names)
        ["UNAVAILABLE"] = FailureKind.Unavailable,
        ["INTERNAL"] = FailureKind.Unavailable,
        ["DEADLINE_EXCEEDED"] = FailureKind.Timeout,
        ["RESOURCE_EXHAUSTED"] = FailureKind.RateLimit,
        ["UNAUTHENTICATED"] = FailureKind.Auth,
        ["PERMISSION_DENIED"] = FailureKind.Auth,
        ["INVALID_ARGUMENT"] = FailureKind.Rejected,
        ["FAILED_PRECONDITION"] = FailureKind.Rejected,
        ["API_KEY_INVALID"] = FailureKind.Auth,
    };

    /// <summary>The kind a provider error type or code names, or <paramref name="unknown"/> when it names none.</summary>
    public static FailureKind KindOf(string? typeOrCode, FailureKind unknown) =>
        typeOrCode is not null && Kinds.TryGetValue(typeOrCode, out var kind) ? kind : unknown;
}
