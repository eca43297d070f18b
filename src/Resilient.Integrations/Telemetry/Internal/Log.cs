using Microsoft.Extensions.Logging;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Telemetry.Internal;

/// <summary>Every log line the library writes. Arguments are redacted by the caller: no credentials reach here.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "{Integration}: {Method} {Path} failed: {Classification}")]
    public static partial void CallFailed(ILogger logger, string integration, string method, string path, string classification);

    [LoggerMessage(2, LogLevel.Information, "{Integration}: retry {Attempt} after {Kind} in {Delay}")]
    public static partial void RetryScheduled(ILogger logger, string integration, int attempt, FailureKind kind, TimeSpan delay);

    [LoggerMessage(3, LogLevel.Warning, "{Integration}: bad response to {Method} {Path} ({Reason}); raw response, first {Bytes} bytes, redacted: {Body}")]
    public static partial void BadResponseBody(ILogger logger, string integration, string method, string path, string? reason, int bytes, string body);

    [LoggerMessage(4, LogLevel.Warning, "{Integration}: retry budget spent; {Kind} failure surfaces without retry")]
    public static partial void RetryBudgetSpent(ILogger logger, string integration, FailureKind kind);

    [LoggerMessage(5, LogLevel.Error, "{Integration}: circuit opened for {BreakDuration} after {Kind}")]
    public static partial void CircuitOpened(ILogger logger, string integration, TimeSpan breakDuration, FailureKind kind);

    [LoggerMessage(75, LogLevel.Error, "{Integration}: circuit for {Key} opened for {BreakDuration} after {Kind}")]
    public static partial void KeyedCircuitOpened(ILogger logger, string integration, string key, TimeSpan breakDuration, FailureKind kind);

    [LoggerMessage(76, LogLevel.Information, "{Integration}: circuit for {Key} closed")]
    public static partial void KeyedCircuitClosed(ILogger logger, string integration, string key);

    [LoggerMessage(72, LogLevel.Warning, "{Integration}: {Endpoint} answers for the primary {Primary} ({Kind})")]
    public static partial void FailedOver(ILogger logger, string integration, string endpoint, string primary, FailureKind kind);

    [LoggerMessage(73, LogLevel.Information, "{Integration}: the primary {Primary} answers again")]
    public static partial void PrimaryBack(ILogger logger, string integration, string primary);

    [LoggerMessage(74, LogLevel.Warning, "{Integration}: a write that is not safe to repeat is not sent to {Endpoint}: the {Kind} failure at {Failed} may have been acted on")]
    public static partial void WriteNotFailedOver(ILogger logger, string integration, string endpoint, FailureKind kind, string failed);

    [LoggerMessage(6, LogLevel.Information, "{Integration}: circuit closed")]
    public static partial void CircuitClosed(ILogger logger, string integration);

    [LoggerMessage(7, LogLevel.Information, "{Integration}: holding request for {Wait} until the rate limit resets")]
    public static partial void PacingHold(ILogger logger, string integration, TimeSpan wait);

    [LoggerMessage(8, LogLevel.Warning, "Alert sink {Sink} failed to deliver an alert for {Integration}: {ExceptionType}: {ExceptionMessage}; it is backed off for {Backoff} ({Failures} failures in a row), and gets a summary of what it misses meanwhile")]
    public static partial void AlertSinkFailed(ILogger logger, string sink, string integration, string exceptionType, string exceptionMessage, TimeSpan backoff, int failures);

    [LoggerMessage(9, LogLevel.Warning, "Alert queue of sink {Sink} full: dropped its oldest alert, a {Kind} alert for {Integration}, which the sink gets in a summary later")]
    public static partial void AlertDropped(ILogger logger, string sink, string integration, FailureKind kind);

    [LoggerMessage(40, LogLevel.Information, "Alert sink {Sink} delivers again: it got one summary of the {Count} alerts it missed")]
    public static partial void AlertsMissedSummarised(ILogger logger, string sink, int count);

    [LoggerMessage(41, LogLevel.Debug, "Alert sink {Sink} is failing or backed off: a {Kind} alert for {Integration} goes into its summary of missed alerts")]
    public static partial void AlertMissed(ILogger logger, string sink, string integration, FailureKind kind);

    [LoggerMessage(EventId = 10, Message = "ALERT {Severity} {Integration} ({Kind}): {Message} [suppressed repeats: {SuppressedCount}]")]
    public static partial void AlertRaised(ILogger logger, LogLevel level, string integration, AlertSeverity severity, FailureKind kind, string message, int suppressedCount);

    [LoggerMessage(12, LogLevel.Warning, "{Integration}: {Method} {Path} failed with {Kind}; served the last good copy: {Notice}")]
    public static partial void FallbackServed(ILogger logger, string integration, string method, string path, FailureKind kind, string notice);

    [LoggerMessage(13, LogLevel.Warning, "{Integration}: health probe failed to run: {ExceptionType}: {ExceptionMessage}")]
    public static partial void ProbeFailed(ILogger logger, string integration, string exceptionType, string exceptionMessage);

    [LoggerMessage(14, LogLevel.Warning, "{Integration}: {Method} {Path} queued as deferred write {Id} ({Reason})")]
    public static partial void WriteDeferred(ILogger logger, string integration, string method, string path, long id, string reason);

    [LoggerMessage(15, LogLevel.Information, "{Integration}: deferred write {Id} {Outcome}")]
    public static partial void DeferredWriteReplayed(ILogger logger, string integration, long id, string outcome);

    [LoggerMessage(16, LogLevel.Warning, "{Integration}: replay of deferred writes failed and will be tried again: {ExceptionType}: {ExceptionMessage}")]
    public static partial void ReplayFailed(ILogger logger, string integration, string exceptionType, string exceptionMessage);

    [LoggerMessage(20, LogLevel.Warning, "{Integration}: a write that failed with {Kind} is not repeated: the server may have acted on it (send an idempotency key or declare it safe to repeat)")]
    public static partial void WriteNotRepeated(ILogger logger, string integration, FailureKind kind);

    [LoggerMessage(21, LogLevel.Warning, "{Integration}: removed a second resilience handler ({Handler}) from the integration's HttpClient, such as one ConfigureHttpClientDefaults adds to every client: the integration's pipeline is its only resilience layer")]
    public static partial void ExtraResilienceHandlerRemoved(ILogger logger, string integration, string handler);

    [LoggerMessage(17, LogLevel.Error, "{Integration}: deferred write {Id} dead-lettered: {Reason}")]
    public static partial void DeferredWriteUnreadable(ILogger logger, string integration, long id, string reason);

    [LoggerMessage(11, LogLevel.Warning, "{Integration}: retry hint {Hint} exceeds the cap or the time left; {Kind} surfaces without waiting")]
    public static partial void HintTooLong(ILogger logger, string integration, TimeSpan hint, FailureKind kind);

    [LoggerMessage(43, LogLevel.Warning, "{Integration}: dead letter {Id} requeued as deferred write {NewId}, same idempotency key")]
    public static partial void DeadLetterRequeued(ILogger logger, string integration, long id, long newId);

    [LoggerMessage(44, LogLevel.Warning, "{Integration}: dead letter {Id} discarded by an operator: {Reason}")]
    public static partial void DeadLetterDiscarded(ILogger logger, string integration, long id, string reason);

    [LoggerMessage(45, LogLevel.Error, "{Integration}: a write could not be queued ({ExceptionType}: {ExceptionMessage}); the caller gets the failure, not 202")]
    public static partial void EnqueueFailed(ILogger logger, string integration, string exceptionType, string exceptionMessage);

    [LoggerMessage(46, LogLevel.Warning, "{Integration}: replay lease lost (expired or taken over by another instance); this instance stops replaying until it holds the lease again")]
    public static partial void ReplayLeaseLost(ILogger logger, string integration);

    [LoggerMessage(47, LogLevel.Debug, "{Integration}: another instance holds the replay lease; this one leaves the queue to it")]
    public static partial void ReplayLeaseHeldElsewhere(ILogger logger, string integration);

    [LoggerMessage(48, LogLevel.Warning, "{Integration}: the shared tier of last good copies did not answer ({ExceptionType}: {ExceptionMessage}); copies in memory are used alone until it does")]
    public static partial void SharedCopiesUnavailable(ILogger logger, string integration, string exceptionType, string exceptionMessage);

    [LoggerMessage(49, LogLevel.Information, "{Integration}: the shared tier of last good copies answers again")]
    public static partial void SharedCopiesBack(ILogger logger, string integration);

    [LoggerMessage(50, LogLevel.Warning, "{Integration}: a shared last good copy could not be read ({ExceptionType}) and is ignored")]
    public static partial void SharedCopyUnreadable(ILogger logger, string integration, string exceptionType);

    [LoggerMessage(51, LogLevel.Warning, "Alert de-duplication shared with other instances does not answer ({ExceptionType}: {ExceptionMessage}); alerts are sent anyway until it does (a duplicate beats silence)")]
    public static partial void AlertClaimsUnavailable(ILogger logger, string exceptionType, string exceptionMessage);

    [LoggerMessage(52, LogLevel.Information, "Alert de-duplication shared with other instances answers again")]
    public static partial void AlertClaimsBack(ILogger logger);

    [LoggerMessage(53, LogLevel.Warning, "The rate budget shared with other instances does not answer ({ExceptionType}: {ExceptionMessage}); each instance paces alone until it does")]
    public static partial void SharedRateBudgetUnavailable(ILogger logger, string exceptionType, string exceptionMessage);

    [LoggerMessage(54, LogLevel.Information, "The rate budget shared with other instances answers again")]
    public static partial void SharedRateBudgetBack(ILogger logger);

    [LoggerMessage(55, LogLevel.Warning, "Probe turns shared with other instances do not answer ({ExceptionType}: {ExceptionMessage}); each instance probes on its own until they do")]
    public static partial void ProbeTurnsUnavailable(ILogger logger, string exceptionType, string exceptionMessage);

    [LoggerMessage(56, LogLevel.Information, "Probe turns shared with other instances answer again")]
    public static partial void ProbeTurnsBack(ILogger logger);

    // Credential expiry: the times and where they were read, never the credential.
    [LoggerMessage(60, LogLevel.Warning, "{Integration}: the credential expires at {ExpiresAt:u} (read from {Source}), in {TimeLeft}; renew it before then")]
    public static partial void CredentialExpiresSoon(ILogger logger, string integration, DateTimeOffset expiresAt, string source, string timeLeft);

    [LoggerMessage(61, LogLevel.Error, "{Integration}: the credential expired at {ExpiresAt:u} (read from {Source}); calls will be refused until it is renewed")]
    public static partial void CredentialExpired(ILogger logger, string integration, DateTimeOffset expiresAt, string source);

    [LoggerMessage(62, LogLevel.Debug, "{Integration}: the credential expires at {ExpiresAt:u} (read from {Source})")]
    public static partial void CredentialExpiryLearned(ILogger logger, string integration, DateTimeOffset expiresAt, string source);

    [LoggerMessage(63, LogLevel.Information, "{Integration}: the credential was renewed; it now expires at {ExpiresAt:u} (read from {Source})")]
    public static partial void CredentialRenewed(ILogger logger, string integration, DateTimeOffset expiresAt, string source);

    [LoggerMessage(70, LogLevel.Warning, "{Integration}: {Method} {Path} had no answer within the soft timeout of {SoftTimeout}; served the last good copy: {Notice}; the live call {LiveCall}")]
    public static partial void ServedWhileSlow(ILogger logger, string integration, string method, string path, TimeSpan softTimeout, string notice, string liveCall);

    [LoggerMessage(71, LogLevel.Information, "{Integration}: the live call of {Method} {Path} that went on in the background landed: {Outcome}")]
    public static partial void BackgroundRefreshLanded(ILogger logger, string integration, string method, string path, string outcome);

    [LoggerMessage(42, LogLevel.Error, "{Section} was reloaded with errors and is ignored; the last valid options stay in force until it is fixed: {Errors}")]
    public static partial void ReloadRejected(ILogger logger, string section, string errors);

    // The integration's HttpClient logs, in place of IHttpClientFactory's defaults (same categories and event ids;
    // the category's LogicalHandler or ClientHandler tells a logical call from one attempt).
    // Every argument is a redacted string: a structured sink records arguments, not only the message.
    [LoggerMessage(100, LogLevel.Information, "Sending HTTP request {HttpMethod} {Uri}")]
    public static partial void HttpRequestStart(ILogger logger, string httpMethod, string uri);

    [LoggerMessage(101, LogLevel.Information, "Received HTTP response headers after {ElapsedMilliseconds}ms - {StatusCode}")]
    public static partial void HttpRequestEnd(ILogger logger, double elapsedMilliseconds, int statusCode);

    [LoggerMessage(102, LogLevel.Trace, "Request Headers:\r\n{Headers}")]
    public static partial void HttpRequestHeaders(ILogger logger, string headers);

    [LoggerMessage(103, LogLevel.Trace, "Response Headers:\r\n{Headers}")]
    public static partial void HttpResponseHeaders(ILogger logger, string headers);

    [LoggerMessage(104, LogLevel.Information, "HTTP request {HttpMethod} {Uri} failed after {ElapsedMilliseconds}ms")]
    public static partial void HttpRequestFailed(ILogger logger, string httpMethod, string uri, double elapsedMilliseconds, Exception exception);
}
