namespace Resilient.Integrations.Testing;

/// <summary>A way an external API breaks, as a drill injects it.</summary>
public enum FaultScenario
{
    /// <summary>The service answers 503.</summary>
    Down,

    /// <summary>The service answers, but only after the integration's attempt timeout (skipped when that timeout is over 5 seconds).</summary>
    Slow,

    /// <summary>The token expired: 401 with an OpenAI-style <c>invalid_api_key</c> body.</summary>
    TokenExpired,

    /// <summary>429 with <c>retry-after-ms</c> and <c>Retry-After</c>.</summary>
    RateLimited,

    /// <summary>429 with <c>insufficient_quota</c>: billing spent, waiting will not help.</summary>
    QuotaExhausted,

    /// <summary>A 200 that is an HTML error page instead of JSON.</summary>
    Malformed,

    /// <summary>The service alternates between 503 and healthy on every request.</summary>
    Flapping,

    /// <summary>A write sent while the service is down: it must be queued (202) and replayed, with its key, once the service is back. Needs <see cref="DrillOptions.WritePath"/>.</summary>
    WriteWhileDown,
}
