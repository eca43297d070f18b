namespace Resilient.Integrations.Testing;

/// <summary>A way an external API breaks, as a drill injects it.</summary>
public enum FaultScenario
{
    /// <summary>The service answers 503.</summary>
    Down,

    /// <summary>The service answers, but only after the integration's attempt timeout (skipped when that timeout is over 5 seconds).</summary>
    Slow,

    /// <summary>
    /// The token expired: from a given moment on (the drill's moment is "now"), every request is answered 401
    /// with an OpenAI-style <c>invalid_api_key</c> body. See <see cref="UpstreamFaults.InjectTokenExpiry"/>.
    /// </summary>
    TokenExpired,

    /// <summary>
    /// A real request quota: a token bucket (2 requests, one more every 500 ms) that answers 429 with the exact
    /// <c>retry-after-ms</c> and a <c>Retry-After</c> when it is empty. It does not report its budget on 200s, so
    /// the client meets the 429s; with the budget reported, a well-paced client never would. See <see cref="UpstreamFaults.InjectTokenBucket"/>.
    /// </summary>
    RateLimited,

    /// <summary>429 with <c>insufficient_quota</c>: billing spent, waiting will not help.</summary>
    QuotaExhausted,

    /// <summary>A 200 that is an HTML error page instead of JSON.</summary>
    Malformed,

    /// <summary>The service alternates between 503 and healthy on every request.</summary>
    Flapping,

    /// <summary>A write sent while the service is down: it must be queued (202) and replayed, with its key, once the service is back. Needs <see cref="DrillOptions.WritePath"/>.</summary>
    WriteWhileDown,

    /// <summary>
    /// Nothing listens any more: the connection is refused. The drill runs it on a spare server of its own that it
    /// stops; <see cref="UpstreamFaults.Inject"/> stops the given server for good.
    /// </summary>
    ConnectionRefused,

    /// <summary>A 200 whose JSON breaks off half-way.</summary>
    MalformedJson,

    /// <summary>
    /// A 200 with well-formed JSON that lacks the fields the app needs (no <c>data</c>). Caught only when the
    /// integration validates them (<c>JsonResponseValidatorOptions.RequiredProperties</c>); the drill says so if not.
    /// </summary>
    MissingFields,

    /// <summary>
    /// Stale while slow: the service answers, but only 1 second after the integration's <c>Fallback:SoftTimeout</c>. A read
    /// must be answered from the last good copy at the soft timeout, marked "live data slow"; the service must get that one
    /// request; and the slow answer, when it lands, must refresh the copy. Skipped when the soft timeout is off, over 5
    /// seconds, or leaves no room for the slow answer within the attempt timeout.
    /// </summary>
    SlowWithSoftTimeout,

    /// <summary>
    /// The primary answers 503 while the secondary endpoint (<see cref="DrillOptions.Secondary"/>, listed in the
    /// integration's <c>Failover:Endpoints</c>) is healthy: the read must be answered live by the secondary, saying so,
    /// with the integration Yellow and a failover alert. Skipped without a secondary.
    /// </summary>
    FailoverPrimaryDown,

    /// <summary>
    /// The primary and the secondary endpoint both answer 503: the read must be answered from the last good copy, with
    /// its notice and an alert. Skipped without a secondary (<see cref="DrillOptions.Secondary"/>).
    /// </summary>
    FailoverAllDown,
}
