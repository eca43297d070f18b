using System.Net;

namespace Resilient.Integrations.Classification;

/// <summary>
/// A host's own classification rule. Rules run before the built-in defaults, in the order they were added;
/// the first that matches decides the kind. A rule's conditions are all required: start from one factory
/// (<see cref="ForStatus(int, FailureKind)"/>, <see cref="ForHeader"/>, <see cref="ForBody"/>,
/// <see cref="ForException{TException}"/>) and narrow it with the <c>When…</c> methods.
/// </summary>
/// <remarks>A rule whose kind is <see cref="FailureKind.None"/> marks a matching outcome as a success, e.g. a 404 on a delete.</remarks>
public sealed class FailureRule
{
    private FailureRule(FailureKind kind) => Kind = kind;

    // Rules are immutable: each When/With call returns a copy with one more condition.
    private FailureRule(FailureRule other)
    {
        Kind = other.Kind;
        ProviderCode = other.ProviderCode;
        RetryMayHelp = other.RetryMayHelp;
        StatusCode = other.StatusCode;
        HeaderName = other.HeaderName;
        HeaderPredicate = other.HeaderPredicate;
        BodyPredicate = other.BodyPredicate;
        ExceptionType = other.ExceptionType;
        ExceptionPredicate = other.ExceptionPredicate;
        CarriedStatus = other.CarriedStatus;
        CarriedBody = other.CarriedBody;
        RetryHint = other.RetryHint;
        ErrorsOnly = other.ErrorsOnly;
    }

    /// <summary>Gets the kind a matching outcome is classified as.</summary>
    /// <value>Set by the factory method.</value>
    public FailureKind Kind { get; }

    /// <summary>Gets the provider error code reported for a matching outcome, replacing the one read from the body.</summary>
    /// <value>Defaults to <see langword="null"/> (keep what the body says).</value>
    public string? ProviderCode { get; private init; }

    /// <summary>Gets whether a matching outcome may succeed if retried, replacing the kind's default.</summary>
    /// <value>Defaults to <see langword="null"/> (the kind's default, or the server's <c>x-should-retry</c>).</value>
    public bool? RetryMayHelp { get; private init; }

    internal int? StatusCode { get; private init; }

    internal string? HeaderName { get; private init; }

    internal Func<string, bool>? HeaderPredicate { get; private init; }

    internal Func<string, bool>? BodyPredicate { get; private init; }

    internal Type? ExceptionType { get; private init; }

    internal Func<Exception, bool>? ExceptionPredicate { get; private init; }

    internal Func<Exception, HttpStatusCode?>? CarriedStatus { get; private init; }

    internal Func<Exception, string?>? CarriedBody { get; private init; }

    internal Func<FailureRuleAnswer, TimeSpan?>? RetryHint { get; private init; }

    /// <summary>Whether the rule tests answers of status 400 and above only, so that a body rule never makes successes wait for a body.</summary>
    internal bool ErrorsOnly { get; private init; }

    internal bool ForResponses => ExceptionType is null;

    internal bool NeedsBody => BodyPredicate is not null;

    /// <summary>Creates a rule for responses with the given status code.</summary>
    /// <param name="statusCode">The status code, 100 to 599.</param>
    /// <param name="kind">The kind to classify matching responses as.</param>
    /// <returns>The rule.</returns>
    public static FailureRule ForStatus(int statusCode, FailureKind kind) => new FailureRule(kind).WhenStatus(statusCode);

    /// <summary>Creates a rule for responses with the given status code.</summary>
    /// <param name="statusCode">The status code.</param>
    /// <param name="kind">The kind to classify matching responses as.</param>
    /// <returns>The rule.</returns>
    public static FailureRule ForStatus(HttpStatusCode statusCode, FailureKind kind) => ForStatus((int)statusCode, kind);

    /// <summary>Creates a rule for responses carrying a header whose value satisfies a predicate.</summary>
    /// <param name="headerName">The response or content header name (case-insensitive).</param>
    /// <param name="predicate">Tests each value of the header; the rule matches when any value passes.</param>
    /// <param name="kind">The kind to classify matching responses as.</param>
    /// <returns>The rule.</returns>
    public static FailureRule ForHeader(string headerName, Func<string, bool> predicate, FailureKind kind) =>
        new FailureRule(kind).WhenHeader(headerName, predicate);

    /// <summary>
    /// Creates a rule for responses whose body satisfies a predicate. The predicate sees a bounded prefix of the
    /// body decoded as UTF-8 (see <see cref="FailureClassifierOptions.MaxErrorBodyBytes"/>); the caller can still read the whole body.
    /// </summary>
    /// <param name="predicate">Tests the body prefix.</param>
    /// <param name="kind">The kind to classify matching responses as.</param>
    /// <returns>The rule.</returns>
    /// <remarks>Without <see cref="WhenStatus"/> the rule reads the body of successful responses too.</remarks>
    public static FailureRule ForBody(Func<string, bool> predicate, FailureKind kind) =>
        new FailureRule(kind) { BodyPredicate = predicate ?? throw new ArgumentNullException(nameof(predicate)) };

    /// <summary>Creates a rule for exceptions of a type (or a type derived from it).</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    /// <param name="kind">The kind to classify matching exceptions as.</param>
    /// <param name="predicate">An optional further test of the exception.</param>
    /// <returns>The rule.</returns>
    public static FailureRule ForException<TException>(FailureKind kind, Func<TException, bool>? predicate = null)
        where TException : Exception =>
        new(kind)
        {
            ExceptionType = typeof(TException),
            ExceptionPredicate = predicate is null ? null : e => predicate((TException)e),
        };

    /// <summary>
    /// Creates a rule for an SDK's exception that carries the HTTP answer it failed on (a status, and perhaps the
    /// body): such exceptions are classified like that answer, by the built-in mapping, the provider error
    /// envelope in the body, its retry hint, and this integration's status and body rules. For example, for the
    /// Anthropic SDK: <c>FailureRule.ForExceptionResponse&lt;AnthropicApiException&gt;(e =&gt; e.StatusCode, e =&gt; e.ResponseBody)</c>.
    /// </summary>
    /// <typeparam name="TException">The SDK's exception type (or a base of it).</typeparam>
    /// <param name="status">Reads the HTTP status; <see langword="null"/> when the exception carries none, and the next rule or the default applies.</param>
    /// <param name="body">Reads the error body, if the exception keeps it. Only a bounded prefix is inspected.</param>
    /// <returns>The rule. Its <see cref="Kind"/> is <see cref="FailureKind.Unknown"/>: the kind comes from the carried answer.</returns>
    public static FailureRule ForExceptionResponse<TException>(Func<TException, HttpStatusCode?> status, Func<TException, string?>? body = null)
        where TException : Exception
    {
        ArgumentNullException.ThrowIfNull(status);
        return new(FailureKind.Unknown)
        {
            ExceptionType = typeof(TException),
            CarriedStatus = e => status((TException)e),
            CarriedBody = body is null ? null : e => body((TException)e),
        };
    }

    /// <summary>Narrows a response rule to a status code.</summary>
    /// <param name="statusCode">The status code, 100 to 599.</param>
    /// <returns>A new rule with the added condition.</returns>
    public FailureRule WhenStatus(int statusCode)
    {
        ThrowIfExceptionRule();
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        return new FailureRule(this) { StatusCode = statusCode };
    }

    /// <summary>Narrows a response rule to responses carrying a header whose value satisfies a predicate.</summary>
    /// <param name="headerName">The response or content header name (case-insensitive).</param>
    /// <param name="predicate">Tests each value of the header.</param>
    /// <returns>A new rule with the added condition.</returns>
    public FailureRule WhenHeader(string headerName, Func<string, bool> predicate)
    {
        ThrowIfExceptionRule();
        ArgumentException.ThrowIfNullOrWhiteSpace(headerName);
        ArgumentNullException.ThrowIfNull(predicate);
        return new FailureRule(this) { HeaderName = headerName, HeaderPredicate = predicate };
    }

    /// <summary>Narrows a response rule to responses whose body prefix satisfies a predicate.</summary>
    /// <param name="predicate">Tests the body prefix decoded as UTF-8.</param>
    /// <returns>A new rule with the added condition.</returns>
    public FailureRule WhenBody(Func<string, bool> predicate)
    {
        ThrowIfExceptionRule();
        ArgumentNullException.ThrowIfNull(predicate);
        return new FailureRule(this) { BodyPredicate = predicate };
    }

    /// <summary>Sets the provider error code reported for matching outcomes.</summary>
    /// <param name="providerCode">The code.</param>
    /// <returns>A new rule that reports the code.</returns>
    public FailureRule WithProviderCode(string providerCode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(providerCode);
        return new FailureRule(this) { ProviderCode = providerCode };
    }

    /// <summary>Sets whether matching outcomes may succeed if retried.</summary>
    /// <param name="retryMayHelp">Whether a retry may help.</param>
    /// <returns>A new rule with the setting.</returns>
    public FailureRule WithRetryMayHelp(bool retryMayHelp) => new FailureRule(this) { RetryMayHelp = retryMayHelp };

    /// <summary>
    /// Sets how long a matching answer asks the client to wait, read from one of its headers: seconds to wait, an epoch
    /// (seconds or milliseconds, measured against the classifier's clock), an HTTP-date, or a duration such as <c>1m30s</c>.
    /// </summary>
    /// <param name="headerName">The response header (case-insensitive), e.g. <c>X-Retry-In</c>.</param>
    /// <returns>A new rule that supplies the hint; when the header is missing or unreadable, the server's usual hint applies.</returns>
    public FailureRule WithRetryAfterHeader(string headerName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(headerName);
        return WithRetryAfter(answer => answer.Header(headerName) is string value && Internal.RetryHintParser.TryParseValue(value, answer.Now, out var wait) ? wait : null);
    }

    /// <summary>
    /// Sets how long a matching answer asks the client to wait, read from a member of its JSON body, anywhere in it
    /// (the largest when several carry it), as a number of <paramref name="unit"/>s or a duration string such as <c>30s</c>.
    /// </summary>
    /// <param name="memberName">The JSON member's name, e.g. <c>retry_after</c>.</param>
    /// <param name="unit">What one unit of a number means, e.g. <see cref="TimeSpan.FromMinutes(double)"/> of 1 for minutes.</param>
    /// <returns>A new rule that supplies the hint; when the member is missing or unreadable, the server's usual hint applies.</returns>
    /// <remarks>Only the bounded prefix of the body that the classifier reads is searched.</remarks>
    public FailureRule WithRetryAfterBodyMember(string memberName, TimeSpan unit)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberName);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(unit, TimeSpan.Zero);
        return WithRetryAfter(answer => answer.Body is string body ? Internal.JsonMembers.LargestDuration(body, memberName, unit) : null);
    }

    /// <summary>Sets how long a matching answer asks the client to wait, computed by a function of the answer.</summary>
    /// <param name="hint">Reads the hint from the answer's status, headers and body prefix; <see langword="null"/> leaves the server's usual hint.</param>
    /// <returns>A new rule that supplies the hint. Negative or absurd (over 30 days) values are ignored.</returns>
    public FailureRule WithRetryAfter(Func<FailureRuleAnswer, TimeSpan?> hint)
    {
        ThrowIfExceptionRule();
        ArgumentNullException.ThrowIfNull(hint);
        return new FailureRule(this) { RetryHint = hint };
    }

    /// <summary>Narrows a response rule to answers of status 400 and above (profiles: an API's errors come with many statuses).</summary>
    internal FailureRule WhenError() => new(this) { ErrorsOnly = true };

    private void ThrowIfExceptionRule()
    {
        if (ExceptionType is not null)
        {
            throw new InvalidOperationException("An exception rule cannot also test a response's status, headers or body.");
        }
    }
}
