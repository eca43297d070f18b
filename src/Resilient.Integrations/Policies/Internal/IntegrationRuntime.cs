using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The state of one integration that outlives any one pipeline (pipelines are rebuilt when options reload):
/// classifier, pacing gate, retry budget, circuit state, and the services its strategies report to.
/// </summary>
internal sealed class IntegrationRuntime : IDisposable
{
    public IntegrationRuntime(
        string name, IFailureClassifier classifier, TimeProvider time, IntegrationMetrics metrics, IAlertDispatcher alerts, ILogger logger, long fallbackSizeLimit)
    {
        Name = name;
        Classifier = classifier;
        Time = time;
        Metrics = metrics;
        Alerts = alerts;
        Logger = logger;
        Budget = new RetryBudget(time);
        Pacing = new PacingGate(time);
        LastKnownGood = new LastKnownGoodStore(fallbackSizeLimit, time);
    }

    public string Name { get; }

    public IFailureClassifier Classifier { get; }

    public TimeProvider Time { get; }

    public IntegrationMetrics Metrics { get; }

    public IAlertDispatcher Alerts { get; }

    public ILogger Logger { get; }

    public RetryBudget Budget { get; }

    public PacingGate Pacing { get; }

    public LastKnownGoodStore LastKnownGood { get; }

    /// <summary>Gets or sets the state of the current pipeline's circuit breaker.</summary>
    public CircuitBreakerStateProvider? Circuit { get; set; }

    /// <summary>Classifies an outcome, reusing the classification the innermost strategy made of the same response.</summary>
    public ValueTask<FailureClassification> ClassifyAsync(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Exception is { } exception)
        {
            return new(Classifier.Classify(exception, context.CancellationToken));
        }

        var response = outcome.Result!;
        return CallState.Of(context) is { } call && ReferenceEquals(call.ClassifiedResponse, response)
            ? new(call.Classification)
            : Classifier.ClassifyAsync(response, context.CancellationToken);
    }

    public void Dispose() => LastKnownGood.Dispose();

    public void RaiseAlert(AlertSeverity severity, FailureKind kind, string message, IReadOnlyDictionary<string, string> details) =>
        Alerts.Publish(new Alert
        {
            Integration = Name,
            Severity = severity,
            Kind = kind,
            Message = message,
            Time = Time.GetUtcNow(),
            Details = details,
        });
}
