using System.Globalization;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The state of one integration that outlives any one pipeline (pipelines are rebuilt when options reload):
/// classifier, pacing gate, retry budget, circuit state, and the services its strategies report to.
/// </summary>
internal sealed class IntegrationRuntime : IDisposable
{
    public IntegrationRuntime(
        string name, IFailureClassifier classifier, TimeProvider time, IntegrationMetrics metrics, IAlertDispatcher alerts, ILogger logger, long fallbackSizeLimit, HealthMonitor health,
        Deferral.IDeferredWriteStore? deferredWrites, Deferral.IDeferredWriteProtector? deferredWriteProtector,
        Microsoft.Extensions.Caching.Distributed.IDistributedCache? sharedCache = null)
    {
        SharedCopies = sharedCache is null ? null : new SharedCopies(sharedCache, name, logger, deferredWriteProtector, time);
        DeferredWriteProtector = deferredWriteProtector;
        Health = health;
        DeferredWrites = deferredWrites;
        Name = name;
        Classifier = classifier;
        Time = time;
        Metrics = metrics;
        Alerts = alerts;
        Logger = logger;
        Budget = new RetryBudget(time);
        Pacing = new PacingGate(time);
        LastKnownGood = new LastKnownGoodStore(fallbackSizeLimit, time);
        ServedCopies = new ServedCopies(time);
        Failover = new Failover.Internal.FailoverEpisode(this);
    }

    /// <summary>Gets whether a secondary endpoint is answering for the primary.</summary>
    public Failover.Internal.FailoverEpisode Failover { get; }

    /// <summary>Gets what the status page says of the copies served.</summary>
    public ServedCopies ServedCopies { get; }

    /// <summary>Counts a copy served instead of a failure.</summary>
    public void CopyServed(Fallback.Degradation served)
    {
        Metrics.FallbackServed(Name, served.Kind);
        ServedCopies.Record(served);
    }

    /// <summary>Counts a copy served because the live call was slow (past <c>Fallback:SoftTimeout</c>).</summary>
    /// <param name="served">The copy's degradation.</param>
    /// <param name="liveCall">What became of the live call: <c>background</c>, <c>joined</c> (one of the same request runs on already) or <c>abandoned</c> (the bound was reached).</param>
    public void CopyServedWhileSlow(Fallback.Degradation served, string liveCall)
    {
        Metrics.FallbackServedWhileSlow(Name, liveCall);
        ServedCopies.Record(served);
    }

    /// <summary>Gets the live calls that go on in the background past their soft timeout.</summary>
    public BackgroundRefreshes BackgroundRefreshes { get; } = new();

    public string Name { get; }

    public IFailureClassifier Classifier { get; }

    public TimeProvider Time { get; }

    public IntegrationMetrics Metrics { get; }

    public IAlertDispatcher Alerts { get; }

    public ILogger Logger { get; }

    public RetryBudget Budget { get; }

    public PacingGate Pacing { get; }

    /// <summary>Gets the rate budget shared with other instances, when one is registered.</summary>
    public SharedPacing? SharedPacing { get; init; }

    public LastKnownGoodStore LastKnownGood { get; }

    /// <summary>Gets the shared tier of last good copies, when an <c>IDistributedCache</c> is registered (used when <c>Fallback:Shared</c> is on).</summary>
    public SharedCopies? SharedCopies { get; }

    public HealthMonitor Health { get; }

    /// <summary>Gets the store for deferred writes, when one is registered.</summary>
    public Deferral.IDeferredWriteStore? DeferredWrites { get; }

    /// <summary>Gets what seals deferred writes before the store sees them, when one is registered.</summary>
    public Deferral.IDeferredWriteProtector? DeferredWriteProtector { get; }

    /// <summary>Gets or sets what reads the state of the current pipeline's one circuit.</summary>
    public Func<CircuitState>? Circuit { get; set; }

    /// <summary>Gets or sets the current pipeline's circuits per key (failover endpoint or host), when those replace the single one.</summary>
    public KeyedCircuits? KeyedCircuits { get; set; }

    /// <summary>Gets the state of the circuit, or the worst of the circuits per key; <see langword="null"/> before the first call.</summary>
    public CircuitState? CircuitState => Circuit?.Invoke() ?? KeyedCircuits?.Worst();

    /// <summary>Classifies an outcome, reusing the classification the innermost strategy made of the same response.</summary>
    public ValueTask<FailureClassification> ClassifyAsync(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Exception is { } exception)
        {
            return new(Classifier.Classify(exception, context.CancellationToken));
        }

        var response = outcome.Result!;
        var call = CallState.Of(context);
        if (call is not null && call.IsPlainSuccess(response))
        {
            return new(FailureClassification.Success); // the success path's answer, nothing copied out
        }

        return call?.ClassificationOf(response) is { } known
            ? new(known)
            : Classifier.ClassifyAsync(response, context.CancellationToken);
    }

    public void Dispose() => LastKnownGood.Dispose();

    /// <summary>Counts, logs and (per the kind's policy) alerts a call's final failure, with every text redacted.</summary>
    public void ReportFailure(
        FailureClassification classification, string method, string path, HttpRequestMessage? request, ResilientIntegrationOptions options, SecretRedactor redactor)
    {
        Metrics.Failure(Name, classification.Kind);
        Log.CallFailed(Logger, Name, method, path, redactor.Redact(classification.ToString(), request));
        if (options.PolicyFor(classification.Kind).Alert is not { } severity)
        {
            return;
        }

        var details = new Dictionary<string, string>(StringComparer.Ordinal) { ["request"] = $"{method} {path}" };
        if (classification.StatusCode is { } status)
        {
            details["status"] = ((int)status).ToString(CultureInfo.InvariantCulture);
        }

        if (classification.ProviderCode is { } code)
        {
            details["provider_code"] = redactor.Redact(code, request);
        }

        if (classification.RetryAfter is { } wait)
        {
            details["retry_after"] = wait.ToString("c", CultureInfo.InvariantCulture);
        }

        if (classification.Reason is { } reason)
        {
            details["reason"] = redactor.Redact(reason, request);
        }

        RaiseAlert(severity, classification.Kind, redactor.Redact($"{classification.Kind} failure on {method} {path}: {classification}", request), details);
    }

    /// <param name="severity">The severity.</param>
    /// <param name="kind">The failure kind, part of the de-duplication key.</param>
    /// <param name="message">The message, already redacted.</param>
    /// <param name="details">Facts, already redacted.</param>
    /// <param name="always">Never suppress this one (a write dropped, a replay paused): it says something a repeat cannot.</param>
    /// <param name="topic">Tells the alert apart from others of its kind for de-duplication, e.g. <c>circuit</c>.</param>
    public void RaiseAlert(
        AlertSeverity severity, FailureKind kind, string message, IReadOnlyDictionary<string, string> details, bool always = false, string? topic = null) =>
        Alerts.Publish(new Alert
        {
            Integration = Name,
            Severity = severity,
            Kind = kind,
            Message = message,
            Time = Time.GetUtcNow(),
            Details = details,
            Unsuppressed = always,
            Topic = topic,
        });
}
