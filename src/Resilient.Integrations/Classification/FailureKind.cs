namespace Resilient.Integrations.Classification;

/// <summary>
/// The named kind of failure behind an outcome of an external call. Each kind gets its own handling:
/// a timeout is retried once, an expired token is not retried at all, a rate limit waits for the server's hint.
/// </summary>
public enum FailureKind
{
    /// <summary>The outcome is not a failure: a success, or a call the caller cancelled.</summary>
    None = 0,

    /// <summary>An attempt or the whole call ran out of time (Polly timeout, HttpClient timeout, 408, 504).</summary>
    Timeout,

    /// <summary>The credentials were refused (401, 403): an expired, revoked or wrong token. Retrying will not help.</summary>
    Auth,

    /// <summary>The server asked the client to slow down (429); waiting for its hint helps.</summary>
    RateLimit,

    /// <summary>A billing, spend or per-day quota is used up; waiting a few seconds will not help.</summary>
    QuotaExhausted,

    /// <summary>A success status whose body is not what the integration expects: format drift, an HTML page, truncated JSON, an error inside a 200.</summary>
    BadResponse,

    /// <summary>The service is down or overloaded: 5xx, 529, connection refused or reset, DNS failure.</summary>
    Unavailable,

    /// <summary>The request itself is wrong (other 4xx: 400, 404, 422, content filter); the same request will fail again.</summary>
    Rejected,

    /// <summary>An exception the classifier does not recognise. Not retried; add a rule to name it.</summary>
    Unknown,
}
