using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;

namespace Resilient.Integrations.Policies;

/// <summary>
/// Options of one integration: timeouts, a policy per failure kind, circuit breaker, retry budget, pacing.
/// Bound from the configuration section <c>ResilientIntegrations:&lt;name&gt;</c>, validated at start-up,
/// reloaded without a restart. A key there that names no option, or an empty value (except a list's), fails
/// start-up naming the key; a reload that fails leaves the last valid options in force and is logged.
/// </summary>
public sealed class ResilientIntegrationOptions
{
    /// <summary>Gets or sets the base address given to the integration's <see cref="HttpClient"/>.</summary>
    /// <value>
    /// Defaults to <see langword="null"/> (keep the client's own). Must be absolute; an empty value in configuration
    /// is an error, not <see langword="null"/>.
    /// </value>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// Gets or sets the time budget of one logical call, retries and waits included. Replaces <see cref="HttpClient.Timeout"/>:
    /// counted from the call's start, it also bounds reading the response body, except an event stream's.
    /// </summary>
    /// <value>Defaults to 2 minutes. Must be positive.</value>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets the largest response body the caller may read, counted in decoded bytes (after
    /// <see cref="System.Net.DecompressionMethods">automatic decompression</see>), however it is read: buffered by
    /// <c>GetAsync</c> or <c>SendAsync</c>, as a string or JSON, or as a stream. A longer body, or one that declares a
    /// longer <c>Content-Length</c>, fails the read with an <see cref="IntegrationFailureException"/> of kind
    /// <see cref="FailureKind.BadResponse"/>. Event streams (<c>text/event-stream</c>, NDJSON) are not counted.
    /// </summary>
    /// <value>Defaults to 32 MiB (33,554,432). Must be at least 1024.</value>
    public long MaxResponseBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the time one attempt may take, including what the pipeline reads of the body to validate or keep it
    /// (the caller's own read of the body is bounded by what is left of <see cref="TotalTimeout"/>).
    /// </summary>
    /// <value>Defaults to 30 seconds, long enough for LLM calls. Must be positive and not above <see cref="TotalTimeout"/>.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the policy for timeouts.</summary>
    /// <value>Defaults to one retry, then a Warning alert.</value>
    public FailureKindPolicy Timeout { get; set; } = new() { MaxRetries = 1, Alert = AlertSeverity.Warning };

    /// <summary>Gets or sets the policy for refused credentials.</summary>
    /// <value>Defaults to no retry and an immediate Critical alert.</value>
    public FailureKindPolicy Auth { get; set; } = new() { MaxRetries = 0, Alert = AlertSeverity.Critical };

    /// <summary>Gets or sets the policy for rate limits.</summary>
    /// <value>Defaults to 3 retries with exponential backoff and jitter honouring the server's hint, capped at 60 seconds; no alert.</value>
    public FailureKindPolicy RateLimit { get; set; } = new() { MaxRetries = 3, MaxDelay = TimeSpan.FromSeconds(60) };

    /// <summary>Gets or sets the policy for spent quotas.</summary>
    /// <value>Defaults to no retry and an immediate Critical alert.</value>
    public FailureKindPolicy QuotaExhausted { get; set; } = new() { MaxRetries = 0, Alert = AlertSeverity.Critical };

    /// <summary>Gets or sets the policy for responses that failed validation.</summary>
    /// <value>Defaults to no retry and a Warning alert; the raw response is logged (see <see cref="RawResponseLogBytes"/>).</value>
    public FailureKindPolicy BadResponse { get; set; } = new() { MaxRetries = 0, Alert = AlertSeverity.Warning };

    /// <summary>Gets or sets the policy for an unavailable service.</summary>
    /// <value>Defaults to 2 retries with exponential backoff and a Warning alert when they are spent.</value>
    public FailureKindPolicy Unavailable { get; set; } = new() { MaxRetries = 2, Alert = AlertSeverity.Warning };

    /// <summary>Gets or sets the policy for rejected requests.</summary>
    /// <value>Defaults to no retry and no alert.</value>
    public FailureKindPolicy Rejected { get; set; } = new() { MaxRetries = 0 };

    /// <summary>Gets or sets the policy for exceptions the classifier does not recognise.</summary>
    /// <value>Defaults to no retry and no alert.</value>
    public FailureKindPolicy Unknown { get; set; } = new() { MaxRetries = 0 };

    /// <summary>Gets or sets the circuit breaker.</summary>
    /// <value>Defaults to opening at 50% failures over at least 10 calls in 30 seconds, for 30 seconds.</value>
    public CircuitBreakerPolicy CircuitBreaker { get; set; } = new();

    /// <summary>Gets or sets failover to secondary base addresses of the same API, each with its own circuit.</summary>
    /// <value>Defaults to no secondary endpoints: no failover.</value>
    public Failover.FailoverPolicy Failover { get; set; } = new();

    /// <summary>Gets or sets the retry budget.</summary>
    /// <value>Defaults to retries of at most 20% of the requests of the last 10 seconds, at least 10.</value>
    public RetryBudgetPolicy RetryBudget { get; set; } = new();

    /// <summary>Gets or sets client-side pacing.</summary>
    /// <value>Defaults to on, holding requests for at most 60 seconds.</value>
    public PacingPolicy Pacing { get; set; } = new();

    /// <summary>Gets or sets the last-known-good fallback.</summary>
    /// <value>Defaults to on: GET and HEAD responses kept up to 1 MiB each and served for at most 24 hours.</value>
    public FallbackPolicy Fallback { get; set; } = new();

    /// <summary>Gets or sets staging chaos: injected failures to drill the other policies.</summary>
    /// <value>Defaults to off.</value>
    public Chaos.ChaosPolicy Chaos { get; set; } = new();

    /// <summary>Gets or sets store-and-forward for writes.</summary>
    /// <value>Defaults to off: only requests marked with <see cref="Deferral.DeferralRequestExtensions.DeferOnFailure"/> are queued, and only when a store is registered.</value>
    public Deferral.DeferralPolicy Deferral { get; set; } = new();

    /// <summary>Gets or sets how writes (every method but GET, HEAD, OPTIONS and TRACE) are repeated.</summary>
    /// <value>Defaults to repeating a write only when it carries an idempotency key or the failure proves it was not acted on.</value>
    public WritePolicy Writes { get; set; } = new();

    /// <summary>Gets or sets how results turn into Green, Yellow and Red.</summary>
    /// <value>Defaults to 2 consistent results per change, Red after 3 timeouts in a row, Yellow above 10 s latency.</value>
    public Health.HealthPolicy Health { get; set; } = new();

    /// <summary>Gets or sets how many bytes of a bad response are logged (redacted).</summary>
    /// <value>Defaults to 4096. Must be between 0 and 65536.</value>
    public int RawResponseLogBytes { get; set; } = 4096;

    /// <summary>
    /// Gets or sets a value indicating whether a call that finally fails throws <see cref="IntegrationFailureException"/>.
    /// When <see langword="false"/>, failed responses are returned as they are and
    /// <see cref="IntegrationFailureHttpExtensions.GetFailureClassification(HttpResponseMessage)"/> tells what failed.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool ThrowOnFailure { get; set; } = true;

    /// <summary>
    /// Gets headers whose values are credentials: never logged, alerted, cached or queued. A list in configuration
    /// adds to these; it never removes one.
    /// </summary>
    /// <value>Defaults to Authorization, Proxy-Authorization, api-key, x-api-key, x-goog-api-key, Cookie, Set-Cookie, Ocp-Apim-Subscription-Key, x-functions-key.</value>
    public IList<string> SensitiveHeaders { get; } = [.. Redaction.Internal.SecretRedactor.DefaultSensitiveHeaders];

    /// <summary>Gets the policy for a failure kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The policy; for <see cref="FailureKind.None"/>, <see cref="Unknown"/>.</returns>
    public FailureKindPolicy PolicyFor(FailureKind kind) => kind switch
    {
        FailureKind.Timeout => Timeout,
        FailureKind.Auth => Auth,
        FailureKind.RateLimit => RateLimit,
        FailureKind.QuotaExhausted => QuotaExhausted,
        FailureKind.BadResponse => BadResponse,
        FailureKind.Unavailable => Unavailable,
        FailureKind.Rejected => Rejected,
        _ => Unknown,
    };
}
