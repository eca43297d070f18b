using System.ClientModel;
using System.Net;
using Resilient.Integrations.Classification.Internal;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Validation;

namespace Resilient.Integrations.Classification;

/// <summary>
/// The default <see cref="IFailureClassifier"/>: host rules first, then the built-in mapping of statuses,
/// exceptions, provider error codes and retry hints, then response validation for 2xx responses.
/// </summary>
public sealed class FailureClassifier : IFailureClassifier
{
    private readonly FailureRule[] _responseRules;
    private readonly FailureRule[] _exceptionRules;
    private readonly bool _rulesNeedBody;
    private readonly IResponseValidator? _validator;
    private readonly int _maxErrorBodyBytes;
    private readonly TimeProvider _timeProvider;
    private readonly string[] _shouldRetryHeaders;

    /// <summary>Creates a classifier with default options and the system clock.</summary>
    public FailureClassifier()
        : this(new FailureClassifierOptions())
    {
    }

    /// <summary>Creates a classifier.</summary>
    /// <param name="options">The options; copied, later changes have no effect.</param>
    /// <param name="timeProvider">The clock that HTTP-date and timestamp retry hints are measured against. Defaults to <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="FailureClassifierOptions.MaxErrorBodyBytes"/> is out of range.</exception>
    public FailureClassifier(FailureClassifierOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxErrorBodyBytes is < 0 or > FailureClassifierOptions.MaxErrorBodyBytesLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxErrorBodyBytes,
                $"FailureClassifierOptions.MaxErrorBodyBytes must be between 0 and {FailureClassifierOptions.MaxErrorBodyBytesLimit}.");
        }

        if (options.Rules.Any(r => r is null))
        {
            throw new ArgumentException("FailureClassifierOptions.Rules must not contain null.", nameof(options));
        }

        _responseRules = [.. options.Rules.Where(r => r.ForResponses)];
        _exceptionRules = [.. options.Rules.Where(r => !r.ForResponses)];
        // A body rule bound to an error status must not make every success (an event stream too) wait for a body prefix.
        _rulesNeedBody = _responseRules.Any(r => r.NeedsBody && !r.ErrorsOnly && r.StatusCode is null or < 400);
        _validator = options.ResponseValidator;
        _maxErrorBodyBytes = options.MaxErrorBodyBytes;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _shouldRetryHeaders = ["x-should-retry", .. options.ShouldRetryHeaders];
    }

    /// <inheritdoc/>
    public FailureClassification Classify(Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return FailureClassification.Cancelled(exception);
        }

        foreach (var rule in _exceptionRules)
        {
            if (!rule.ExceptionType!.IsInstanceOfType(exception))
            {
                continue;
            }

            if (rule.CarriedStatus is not null)
            {
                if (rule.CarriedStatus(exception) is { } carried)
                {
                    var body = rule.CarriedBody?.Invoke(exception) is { Length: > 0 } text ? System.Text.Encoding.UTF8.GetBytes(text) : [];
                    return ClassifyCarried(exception, (int)carried, body, default(NoHeaderSource), hasHeaders: false);
                }
            }
            else if (rule.ExceptionPredicate?.Invoke(exception) ?? true)
            {
                return Apply(rule, new FailureClassification(rule.Kind) { Exception = exception });
            }
        }

        return DefaultKinds.ForException(exception, cancellationToken, ClassifySdkAnswer);
    }

    /// <inheritdoc/>
    public ValueTask<FailureClassification> ClassifyAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        int status = (int)response.StatusCode;
        bool isError = status >= 400;

        // The success path with nothing to inspect stays synchronous and allocation-free.
        if (!isError && _responseRules.Length == 0 && (_validator is null || status is < 200 or > 299))
        {
            return new(FailureClassification.Success);
        }

        // An error with nothing in its body (a bare 503) needs no read and no state machine.
        bool readBody = _maxErrorBodyBytes > 0 && (isError || _rulesNeedBody) && response.Content.Headers.ContentLength != 0;
        if (!readBody && (_validator is null || status is < 200 or > 299))
        {
            return new(Classify(response, status, body: null, text: null, MatchRule(new ResponseHeaderSource(response), status, body: null)));
        }

        if (!readBody)
        {
            // A 2xx to validate: a validator that answers at once (a body buffered already) costs no state machine.
            var rule = MatchRule(new ResponseHeaderSource(response), status, body: null);
            var classification = Classify(response, status, body: null, text: null, rule);
            if (rule is not null || classification.IsFailure)
            {
                return new(classification);
            }

            ValueTask<ResponseValidationResult> verdict;
            try
            {
                verdict = _validator!.ValidateAsync(response, cancellationToken);
            }
            catch (Exception ex)
            {
                // The caller's cancellation stays a fault of the task, as from the awaited path, not a throw.
                return ex is OperationCanceledException && cancellationToken.IsCancellationRequested
                    ? ValueTask.FromException<FailureClassification>(ex)
                    : new(Classify(ex, cancellationToken) with { StatusCode = response.StatusCode });
            }

            return verdict.IsCompletedSuccessfully ? new(FromVerdict(verdict.Result, response)) : ValidatedAsync(verdict, response, cancellationToken);
        }

        return ClassifyWithBodyAsync(response, status, readBody, cancellationToken);
    }

    private async ValueTask<FailureClassification> ValidatedAsync(ValueTask<ResponseValidationResult> pending, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return FromVerdict(await pending.ConfigureAwait(false), response);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Classify(ex, cancellationToken) with { StatusCode = response.StatusCode };
        }
    }

    /// <summary>
    /// An SDK exception that carries the answer it failed on (a <c>ClientResultException</c>'s raw response, or what a
    /// <see cref="FailureRule.ForExceptionResponse"/> rule reads): classified like a response with that status, headers
    /// and body, host rules included; only a bounded prefix of the body is inspected.
    /// </summary>
    private FailureClassification ClassifyCarried<THeaders>(Exception exception, int status, ReadOnlySpan<byte> body, THeaders headers, bool hasHeaders)
        where THeaders : struct, IHeaderSource
    {
        bool complete = body.Length <= _maxErrorBodyBytes;
        var prefix = complete ? body : body[.._maxErrorBodyBytes];
        string? text = prefix.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(prefix);

        return ClassifyAnswer(status, headers, hasHeaders, prefix, complete, text, MatchRule(headers, status, text), exception);
    }

    private FailureClassification ClassifySdkAnswer(ClientResultException exception)
    {
        var raw = exception.GetRawResponse();
        ReadOnlySpan<byte> body = default;
        try
        {
            if (raw?.Content is { } content)
            {
                body = content.ToMemory().Span;
            }
        }
        catch (InvalidOperationException)
        {
            // The SDK did not buffer the body: classify by status and headers alone.
        }

        return ClassifyCarried(exception, exception.Status, body, new RawResponseHeaderSource(raw), raw is not null);
    }

    private static FailureClassification Apply(FailureRule rule, FailureClassification classification)
    {
        if (rule.ProviderCode is not null)
        {
            classification = classification with { ProviderCode = rule.ProviderCode };
        }

        return rule.RetryMayHelp is bool retry ? classification with { RetryMayHelp = retry } : classification;
    }

    private async ValueTask<FailureClassification> ClassifyWithBodyAsync(
        HttpResponseMessage response, int status, bool readBody, CancellationToken cancellationToken)
    {
        BodyPrefix? body = null;
        if (readBody)
        {
            try
            {
                body = await ResponseBodyReader.ReadPrefixAsync(response, _maxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException && status >= 400)
            {
                // The status already says what failed; a body that breaks off only costs us its details.
            }
        }

        string? text = body?.ToText();
        var rule = MatchRule(new ResponseHeaderSource(response), status, text);
        var classification = Classify(response, status, body, text, rule);
        if (rule is not null || classification.IsFailure || status is < 200 or > 299 || _validator is null)
        {
            return classification;
        }

        ResponseValidationResult verdict;
        try
        {
            verdict = await _validator.ValidateAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The body broke off while it was read: the data did not arrive, so classify what was thrown.
            return Classify(ex, cancellationToken) with { StatusCode = response.StatusCode };
        }

        return FromVerdict(verdict, response);
    }

    private FailureClassification FromVerdict(ResponseValidationResult verdict, HttpResponseMessage response) =>
        verdict.IsValid
            ? FailureClassification.Success
            : new FailureClassification(verdict.Kind)
            {
                StatusCode = response.StatusCode,
                ProviderCode = verdict.ProviderCode,
                Reason = verdict.Reason,

                // An error inside a 200 that is a rate limit (Slack's ok:false "ratelimited") waits for the server's hint.
                RetryAfter = verdict.Kind == FailureKind.RateLimit ? RetryHintParser.FromHeaders(new HttpHeaderSource(response.Headers), _timeProvider, rateLimited: true) : null,
            };

    private FailureClassification Classify(HttpResponseMessage response, int status, BodyPrefix? body, string? text, FailureRule? rule)
    {
        // Every look-up is behind hasHeaders: an answer without headers never has its collection created.
        bool hasHeaders = MessageHeaders.Any(response);
        return ClassifyAnswer(
            status, hasHeaders ? new HttpHeaderSource(response.Headers) : default, hasHeaders,
            body is { } prefix ? prefix.Span : default, body?.IsComplete ?? true, text, rule, exception: null);
    }

    /// <summary>
    /// The one mapping of an HTTP answer to a classification, for a response and for an answer an SDK's exception
    /// carries: a host rule, else the status refined by the provider's error code; then the server's retry hint
    /// and its <c>x-should-retry</c>, which a host rule may overrule.
    /// </summary>
    private FailureClassification ClassifyAnswer<THeaders>(
        int status, THeaders headers, bool hasHeaders, ReadOnlySpan<byte> prefix, bool complete, string? text, FailureRule? rule, Exception? exception)
        where THeaders : struct, IHeaderSource
    {
        string? providerCode = null;
        if (!prefix.IsEmpty)
        {
            ErrorEnvelope.TryRead(prefix, complete, out _, out providerCode);
        }

        // An SDK that called an answer below 400 an error (an unexpected redirect or empty answer) did not get what it expected.
        var kind = rule?.Kind ?? (exception is not null && status < 400
            ? FailureKind.BadResponse
            : WellKnownErrorCodes.Refine(DefaultKinds.ForStatus(status), status, providerCode, text));
        if (kind == FailureKind.None)
        {
            return FailureClassification.Success;
        }

        // A 403 that says a rate-limit window is spent, or when to come back, is throttling, not a refused credential (GitHub).
        if (rule is null && kind == FailureKind.Auth && status == 403 && hasHeaders &&
            (RateLimitFields.IsSpent(headers) || headers.Get("Retry-After") is not null))
        {
            kind = FailureKind.RateLimit;
        }

        var classification = new FailureClassification(kind)
        {
            StatusCode = (HttpStatusCode)status,
            ProviderCode = providerCode,
            Exception = exception,
            RetryAfter = (hasHeaders ? RetryHintParser.FromHeaders(headers, _timeProvider, rateLimited: kind == FailureKind.RateLimit) : null)
                ?? (text is null ? null : RetryHintParser.FromBody(text)),
        };

        // The server's x-should-retry (or a profile's own such header) beats the kind's default; a host rule that says so beats both.
        if (hasHeaders && ShouldRetry(headers) is bool allowed)
        {
            classification = classification with { RetryMayHelp = allowed };
        }

        if (rule is null)
        {
            return classification;
        }

        classification = Apply(rule, classification);
        if (rule.RetryHint is { } hint)
        {
            // Only a rule that asks pays for the answer's view; its hint beats the server's generic one.
            var answer = new FailureRuleAnswer(status, text, hasHeaders ? headers.Get : static _ => null, _timeProvider);
            if (hint(answer) is { } wait && RetryHintParser.TryFromMilliseconds(wait.TotalMilliseconds, out var usable))
            {
                classification = classification with { RetryAfter = usable };
            }
        }

        return classification;
    }

    private bool? ShouldRetry<THeaders>(THeaders headers)
        where THeaders : struct, IHeaderSource
    {
        foreach (var name in _shouldRetryHeaders)
        {
            if (RetryHintParser.ShouldRetry(headers.Get(name)) is bool said)
            {
                return said;
            }
        }

        return null;
    }

    private FailureRule? MatchRule<THeaders>(THeaders headers, int status, string? body)
        where THeaders : struct, IHeaderSource
    {
        foreach (var rule in _responseRules)
        {
            if ((rule.StatusCode is null || rule.StatusCode == status) && (!rule.ErrorsOnly || status >= 400) &&
                (rule.HeaderName is null || headers.Any(rule.HeaderName, rule.HeaderPredicate!)) &&
                (rule.BodyPredicate is null || (body is not null && rule.BodyPredicate(body))))
            {
                return rule;
            }
        }

        return null;
    }
}
