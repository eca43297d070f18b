using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Deferral.Internal;

/// <summary>The operators' view of the registered store: addresses redacted again on the way out, every action logged.</summary>
internal sealed class DeferredWriteAdmin(IntegrationRegistry registry, TimeProvider time) : IDeferredWriteAdmin
{
    public async Task<IReadOnlyList<DeferredWriteEntry>> ListAsync(
        string integration, DeferredWriteState state, int max = 100, long afterId = 0, CancellationToken cancellationToken = default)
    {
        var (store, _) = Resolve(integration);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(max, 10_000);
        var now = time.GetUtcNow();
        var entries = await store.ListAsync(integration, state, afterId, max, cancellationToken).ConfigureAwait(false);
        return [.. entries.Select(e => e with
        {
            // Stored addresses already lost their secret query values; redact again in case a custom store kept them.
            Address = e.Address is null ? null : SecretRedactor.RedactPathAndQuery(new Uri(e.Address, UriKind.RelativeOrAbsolute)),
            Age = now - e.EnqueuedAt,
        })];
    }

    public async Task<long?> RequeueAsync(string integration, long id, CancellationToken cancellationToken = default)
    {
        var (store, runtime) = Resolve(integration);
        long? newId = await store.RequeueAsync(integration, id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (newId is { } queued)
        {
            Log.DeadLetterRequeued(runtime.Logger, integration, id, queued);
        }

        return newId;
    }

    public async Task<bool> DiscardAsync(string integration, long id, string reason, CancellationToken cancellationToken = default)
    {
        var (store, runtime) = Resolve(integration);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        string redacted = SecretRedactor.Default.Redact(reason);
        bool discarded = await store.DiscardAsync(integration, id, redacted, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (discarded)
        {
            Log.DeadLetterDiscarded(runtime.Logger, integration, id, redacted);
        }

        return discarded;
    }

    private (IDeferredWriteStore Store, IntegrationRuntime Runtime) Resolve(string integration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(integration);
        var runtime = registry.Get(integration);
        var store = runtime.DeferredWrites
            ?? throw new InvalidOperationException("No IDeferredWriteStore is registered: add one (e.g. AddSqliteDeferredWriteStore) to defer writes.");
        return (store, runtime);
    }
}
