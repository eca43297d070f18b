using Resilient.Integrations.Classification;

namespace Resilient.Integrations.AI.Failover;

/// <summary>Recognises the rejections another model may take: a prompt too long for the context window, and the content filter.</summary>
public static class ChatRejections
{
    /// <summary>
    /// Gets a value indicating whether a failure is a request longer than the model's context window: OpenAI and Azure
    /// <c>context_length_exceeded</c>, Anthropic's "prompt is too long" (provider code <c>prompt_too_long</c> with
    /// the Anthropic profile).
    /// </summary>
    /// <param name="failure">The failure.</param>
    /// <returns><see langword="true"/> for such a rejection.</returns>
    public static bool IsContextLengthExceeded(FailureClassification failure) =>
        failure.Kind == FailureKind.Rejected && failure.ProviderCode is "context_length_exceeded" or "prompt_too_long";

    /// <summary>
    /// Gets a value indicating whether a failure is the provider's content filter: OpenAI and Azure <c>content_filter</c>,
    /// as a 400 on the prompt or as a completion stopped with <c>finish_reason: "content_filter"</c>.
    /// </summary>
    /// <param name="failure">The failure.</param>
    /// <returns><see langword="true"/> for such a rejection.</returns>
    public static bool IsContentFiltered(FailureClassification failure) =>
        failure.Kind == FailureKind.Rejected && failure.ProviderCode is "content_filter";

    // An open (or isolated) circuit fails at once, without reaching the provider.
    internal static bool IsOpenCircuit(FailureClassification failure) =>
        failure.Exception is Polly.CircuitBreaker.BrokenCircuitException;
}
