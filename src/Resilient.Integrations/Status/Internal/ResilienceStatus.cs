using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts.Internal;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Status.Internal;

/// <summary>Reads each integration's state from where it lives (health monitor, runtime, store) into one snapshot.</summary>
internal sealed class ResilienceStatus(
    IEnumerable<IntegrationName> names,
    IntegrationRegistry registry,
    HealthMonitor health,
    RecentAlerts alerts,
    IOptionsMonitor<ResilientIntegrationOptions> options,
    TimeProvider time,
    IServiceProvider services) : IResilienceStatus
{
    private const int DeadLettersShown = 20;

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    // Real time: it bounds I/O to the store.
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    public async Task<ResilienceStatusReport> GetAsync(CancellationToken cancellationToken = default)
    {
        var store = services.GetService<IDeferredWriteStore>();
        var admin = store is null ? null : services.GetService<IDeferredWriteAdmin>();
        var integrations = new List<IntegrationStatus>();
        foreach (string name in names.Select(n => n.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            integrations.Add(await ReadAsync(name, store, admin, cancellationToken).ConfigureAwait(false));
        }

        return new ResilienceStatusReport { GeneratedAt = time.GetUtcNow(), Integrations = integrations, RecentAlerts = alerts.Snapshot() };
    }

    private async Task<IntegrationStatus> ReadAsync(string name, IDeferredWriteStore? store, IDeferredWriteAdmin? admin, CancellationToken cancellationToken)
    {
        var runtime = registry.Get(name);
        var policy = options.Get(name);
        var state = health.Get(name);
        var (requests, retries, allowed) = runtime.Budget.Snapshot(policy.RetryBudget);
        var (served, lastServed, oldestAge) = runtime.ServedCopies.Snapshot();
        var redactor = new SecretRedactor(policy.SensitiveHeaders);
        var status = new IntegrationStatus
        {
            Name = name,
            State = state.State,
            Since = state.Since == default ? null : state.Since,
            LastResultAt = state.LastResultAt,
            LastResultKind = state.LastResult?.Outcome.Kind,
            LastResult = state.LastResult is { } last ? redactor.Redact(Describe(last.Outcome)) : null,
            LastFailureKind = state.LastFailureKind,
            Circuit = runtime.CircuitState?.ToString() ?? "Unknown",
            Circuits = runtime.KeyedCircuits?.Snapshot() ?? Empty,
            DegradedBy = health.DegradedBy(name),
            PacingHold = runtime.Pacing.HoldTime(),
            RetryBudgetRequests = requests,
            RetryBudgetRetries = retries,
            RetryBudgetAllowed = allowed,
            CopiesServed = served,
            LastCopyServedAt = lastServed,
            OldestCopyServedAge = oldestAge,
        };
        if (store is null)
        {
            return status;
        }

        try
        {
            // A store that hangs must not hang the page: its part says so after a few seconds, the rest is shown.
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(StoreTimeout);
            var queue = await store.GetStatsAsync(name, bounded.Token).AsTask().WaitAsync(StoreTimeout, cancellationToken).ConfigureAwait(false);
            var dead = queue.DeadLettered > 0 && admin is not null
                ? await admin.ListAsync(name, DeferredWriteState.DeadLettered, DeadLettersShown, cancellationToken: bounded.Token).WaitAsync(StoreTimeout, cancellationToken).ConfigureAwait(false)
                : [];
            return status with { Queue = queue, DeadLetters = dead };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The page must show the rest when the store is what is down.
            return status with { QueueError = $"{ex.GetType().Name}: {SecretRedactor.RedactExceptionMessage(ex)}" };
        }
    }

    private static string Describe(FailureClassification outcome) => outcome.IsFailure ? outcome.ToString() : "Success";
}
