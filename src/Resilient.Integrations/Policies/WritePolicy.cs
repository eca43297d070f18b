namespace Resilient.Integrations.Policies;

/// <summary>
/// How requests that may change something upstream are repeated. Every method but GET, HEAD, OPTIONS and TRACE
/// counts as a write, PUT and DELETE included: RFC 9110 calls them idempotent, but real APIs create versions,
/// fire webhooks or answer 404 to a repeated DELETE. A write is sent more than once only when that cannot
/// duplicate anything: it carries an idempotency key, it is declared safe to repeat, or the failure proves the
/// server never acted on it (no connection was made, 425, 429, 529, a request held back by pacing or an open circuit).
/// </summary>
public sealed class WritePolicy
{
    /// <summary>The idempotency header most APIs that deduplicate writes read (Stripe, PayPal, Adyen and the IETF draft).</summary>
    public const string DefaultIdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// Gets or sets a value indicating whether every write of the integration is safe to repeat: the API deduplicates
    /// writes by itself, or a duplicate is harmless.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool SafeToRepeat { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a write without an <see cref="IdempotencyKeyHeader"/> gets one, a new
    /// random key that every attempt of the call carries. A key the caller set is kept. Turn it on only for an API
    /// that deduplicates by this header: a write that carries one is repeated like a read.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool AddIdempotencyKey { get; set; }

    /// <summary>Gets or sets the header that carries the idempotency key; a write carrying it (or <c>Idempotency-Key</c>) is repeated.</summary>
    /// <value>Defaults to <c>Idempotency-Key</c>. Must be a valid header name.</value>
    public string IdempotencyKeyHeader { get; set; } = DefaultIdempotencyKeyHeader;

    /// <summary>
    /// Gets the endings of paths whose writes are safe to repeat whatever their method, compared without case, such as
    /// <c>/chat/completions</c>: an endpoint that computes an answer and creates nothing. A list in configuration replaces these
    /// (an empty one empties the list, the profile's paths included).
    /// </summary>
    /// <value>Defaults to empty; the AI provider profiles add their completion, embedding and token-count endpoints.</value>
    public IList<string> SafeToRepeatPaths { get; } = [];
}
