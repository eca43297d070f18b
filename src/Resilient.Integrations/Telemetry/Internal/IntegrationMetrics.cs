using System.Diagnostics.Metrics;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Telemetry.Internal;

/// <summary>The <c>Resilient.Integrations</c> meter: failures, retries, budget rejections, pacing and alerts.</summary>
internal sealed class IntegrationMetrics
{
    public const string MeterName = "Resilient.Integrations";

    private readonly Counter<long> _failures;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _budgetRejections;
    private readonly Counter<long> _pacingHolds;
    private readonly Counter<long> _alertsSent;
    private readonly Counter<long> _alertsSuppressed;
    private readonly Counter<long> _alertsDropped;
    private readonly Counter<long> _alertSinkFailures;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _servedWhileSlow;
    private readonly Counter<long> _failovers;
    private readonly Counter<long> _deferred;
    private readonly Counter<long> _replayed;

    private readonly Counter<long> _storeFailures;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Depth, double OldestAgeSeconds, int DeadLetters)> _queues = new(StringComparer.Ordinal);

    private Func<IEnumerable<(string Integration, int State)>>? _healthStates;
    private Func<IEnumerable<(string Integration, int State)>>? _circuitStates;

    /// <summary>Where the state gauges read from: set once the health monitor and the runtimes exist.</summary>
    public void WatchStates(Func<IEnumerable<(string Integration, int State)>> health, Func<IEnumerable<(string Integration, int State)>> circuits)
    {
        _healthStates = health;
        _circuitStates = circuits;
    }

    private static IEnumerable<Measurement<int>> Observe(Func<IEnumerable<(string Integration, int State)>>? source) =>
        source is null ? [] : source().Select(s => new Measurement<int>(s.State, new KeyValuePair<string, object?>("integration", s.Integration)));

    public IntegrationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("resilient_integrations.deferral.depth", () => _queues.Select(q => new Measurement<int>(q.Value.Depth, new KeyValuePair<string, object?>("integration", q.Key))), "{write}", "Deferred writes waiting for delivery.");
        meter.CreateObservableGauge("resilient_integrations.deferral.oldest_age", () => _queues.Select(q => new Measurement<double>(q.Value.OldestAgeSeconds, new KeyValuePair<string, object?>("integration", q.Key))), "s", "Age of the oldest deferred write waiting for delivery.");
        meter.CreateObservableGauge("resilient_integrations.deferral.dead_letters", () => _queues.Select(q => new Measurement<int>(q.Value.DeadLetters, new KeyValuePair<string, object?>("integration", q.Key))), "{write}", "Dead-lettered writes waiting for an operator to requeue or discard them.");
        meter.CreateObservableGauge("resilient_integrations.health.state", () => Observe(_healthStates), "{state}", "Each integration's health: 0 Unknown, 1 Green, 2 Yellow, 3 Red.");
        meter.CreateObservableGauge("resilient_integrations.circuit.state", () => Observe(_circuitStates), "{state}", "Each integration's circuit breaker: 0 closed, 1 half-open, 2 open, 3 isolated.");
        _storeFailures = meter.CreateCounter<long>("resilient_integrations.deferral.store_failures", "{failure}", "Operations on the deferred-write store that failed, by operation: enqueue (the caller got the failure) or replay (tried again next turn).");
        _failures = meter.CreateCounter<long>("resilient_integrations.failures", "{failure}", "Calls that ended in a failure, by integration and kind.");
        _retries = meter.CreateCounter<long>("resilient_integrations.retries", "{retry}", "Retries taken, by integration and the kind that caused them.");
        _budgetRejections = meter.CreateCounter<long>("resilient_integrations.retry_budget.rejections", "{retry}", "Retries refused because the retry budget was spent.");
        _pacingHolds = meter.CreateCounter<long>("resilient_integrations.pacing.holds", "{request}", "Requests held back until a rate-limit reset.");
        _alertsSent = meter.CreateCounter<long>("resilient_integrations.alerts.sent", "{alert}", "Alerts delivered by a sink.");
        _alertsSuppressed = meter.CreateCounter<long>("resilient_integrations.alerts.suppressed", "{alert}", "Alert repeats suppressed within the cooldown.");
        _alertsDropped = meter.CreateCounter<long>("resilient_integrations.alerts.dropped", "{alert}", "Alerts a sink did not get one by one, by reason: queue_full (its queue overflowed) or sink_unavailable (it was failing, backed off or still stuck in a call); each sink gets them later as one summary.");
        _fallbacks = meter.CreateCounter<long>("resilient_integrations.fallback.served", "{response}", "Last-known-good copies served instead of a failure, by integration and kind.");
        _servedWhileSlow = meter.CreateCounter<long>("resilient_integrations.fallback.served_while_slow", "{response}", "Last-known-good copies served because the live call had not answered within the soft timeout, by integration and what became of the live call: background (it goes on and refreshes the copy), joined (one for the same request already did) or abandoned (too many went on already).");
        _failovers = meter.CreateCounter<long>("resilient_integrations.failover.served", "{response}", "Calls a secondary endpoint answered for the primary, by integration and endpoint.");
        _deferred = meter.CreateCounter<long>("resilient_integrations.deferral.queued", "{write}", "Writes persisted for later delivery.");
        _replayed = meter.CreateCounter<long>("resilient_integrations.deferral.replayed", "{write}", "Deferred writes by replay outcome: delivered, rescheduled, dead_lettered.");
        _alertSinkFailures = meter.CreateCounter<long>("resilient_integrations.alerts.sink_failures", "{alert}", "Deliveries a sink failed or timed out, by integration and sink.");
    }

    public void Failure(string integration, FailureKind kind) =>
        _failures.Add(1, new("integration", integration), new("kind", kind.ToString()));

    public void FallbackServedWhileSlow(string integration, string liveCall) =>
        _servedWhileSlow.Add(1, new("integration", integration), new("live_call", liveCall));

    public void FallbackServed(string integration, FailureKind kind) =>
        _fallbacks.Add(1, new("integration", integration), new("kind", kind.ToString()));

    public void FailoverServed(string integration, string endpoint) =>
        _failovers.Add(1, new("integration", integration), new("endpoint", endpoint));

    public void QueueObserved(string integration, int depth, TimeSpan oldestAge, int deadLetters) => _queues[integration] = (depth, oldestAge.TotalSeconds, deadLetters);

    public void StoreFailure(string integration, string operation) =>
        _storeFailures.Add(1, new("integration", integration), new("operation", operation));

    public void WriteDeferred(string integration) => _deferred.Add(1, new KeyValuePair<string, object?>("integration", integration));

    public void WriteReplayed(string integration, string outcome) =>
        _replayed.Add(1, new("integration", integration), new("outcome", outcome));

    public void Retry(string integration, FailureKind kind) =>
        _retries.Add(1, new("integration", integration), new("kind", kind.ToString()));

    public void BudgetRejection(string integration) => _budgetRejections.Add(1, new KeyValuePair<string, object?>("integration", integration));

    public void PacingHold(string integration) => _pacingHolds.Add(1, new KeyValuePair<string, object?>("integration", integration));

    public void AlertSent(string integration, AlertSeverity severity) =>
        _alertsSent.Add(1, new("integration", integration), new("severity", severity.ToString()));

    public void AlertSuppressed(string integration, AlertSeverity severity) =>
        _alertsSuppressed.Add(1, new("integration", integration), new("severity", severity.ToString()));

    public void AlertDropped(string integration, string sink, string reason) =>
        _alertsDropped.Add(1, new("integration", integration), new("sink", sink), new("reason", reason));

    public void AlertSinkFailed(string integration, string sink) =>
        _alertSinkFailures.Add(1, new("integration", integration), new("sink", sink));
}
