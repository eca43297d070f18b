using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// The four profiles. Their rules cover what the built-in mapping cannot know from the status alone
/// (docs/architecture.md, "Provider facts"); the envelope codes every provider shares are read by the classifier itself.
/// </summary>
internal static class ProviderProfiles
{
    // Endpoints that compute an answer and create nothing: a repeated POST costs tokens, never a duplicate.
    // (The Responses API is left out: it stores responses and can run background jobs.)
    private static readonly string[] OpenAIComputePaths = ["/chat/completions", "/completions", "/embeddings", "/moderations"];

    public static ProviderProfile OpenAI { get; } = new()
    {
        Name = "OpenAI",
        DefaultEndpoint = new Uri("https://api.openai.com/"),
        ProbePath = "v1/models",
        KeyHeader = "Authorization",
        KeyValue = key => "Bearer " + key,
        ChecksFilteredCompletions = true,
        SafeToRepeatPaths = OpenAIComputePaths,
        Rules = OpenAIRules(),
    };

    public static ProviderProfile AzureOpenAI { get; } = new()
    {
        Name = "Azure OpenAI",
        ProbePath = "openai/models?api-version={0}",
        DefaultApiVersion = "2024-10-21",
        KeyHeader = "api-key",
        ChecksFilteredCompletions = true,
        SafeToRepeatPaths = OpenAIComputePaths,
        Rules = OpenAIRules(),
    };

    public static ProviderProfile Anthropic { get; } = new()
    {
        Name = "Anthropic",
        DefaultEndpoint = new Uri("https://api.anthropic.com/"),
        ProbePath = "v1/models",
        DefaultApiVersion = "2023-06-01",
        KeyHeader = "x-api-key",
        VersionHeader = "anthropic-version",
        SafeToRepeatPaths = ["/messages", "/messages/count_tokens"],
        Rules =
        [
            FailureRule.ForStatus(402, FailureKind.QuotaExhausted).WhenBody(b => b.Contains("billing_error", StringComparison.Ordinal)).WithProviderCode("billing_error"),

            // The envelope's type says only invalid_request_error or rate_limit_error; the detail names the spent limit.
            FailureRule.ForStatus(400, FailureKind.QuotaExhausted).WhenBody(b => b.Contains("enforced_spend_limit_reached", StringComparison.Ordinal)).WithProviderCode("enforced_spend_limit_reached"),
            FailureRule.ForStatus(429, FailureKind.QuotaExhausted).WhenBody(b => b.Contains("enforced_spend_limit_reached", StringComparison.Ordinal)).WithProviderCode("enforced_spend_limit_reached"),

            // A prompt longer than the context window is an invalid_request_error like any other; a code of its own lets a failover route it.
            FailureRule.ForStatus(400, FailureKind.Rejected).WhenBody(b => b.Contains("prompt is too long", StringComparison.Ordinal)).WithProviderCode("prompt_too_long"),
        ],
    };

    public static ProviderProfile Gemini { get; } = new()
    {
        Name = "Gemini",
        DefaultEndpoint = new Uri("https://generativelanguage.googleapis.com/"),
        ProbePath = "v1beta/models",
        KeyHeader = "x-goog-api-key",
        SafeToRepeatPaths = [":generateContent", ":streamGenerateContent", ":embedContent", ":batchEmbedContents", ":countTokens"],
        Rules =
        [
            // A bad key is a 400 INVALID_ARGUMENT whose details say API_KEY_INVALID: an Auth failure, not a bad request.
            FailureRule.ForStatus(400, FailureKind.Auth).WhenBody(b => b.Contains("API_KEY_INVALID", StringComparison.Ordinal)).WithProviderCode("API_KEY_INVALID"),
        ],
    };

    // insufficient_quota, context_length_exceeded, content_filter, 529 and Gemini's per-day RESOURCE_EXHAUSTED need
    // no rule: the classifier's own status mapping and well-known codes already get them right (tested).
    private static FailureRule[] OpenAIRules() =>
    [
        // A region OpenAI does not serve: the same request fails again, and it is not a bad key.
        FailureRule.ForStatus(403, FailureKind.Rejected).WhenBody(b => b.Contains("unsupported_country_region_territory", StringComparison.Ordinal)).WithProviderCode("unsupported_country_region_territory"),
    ];
}
