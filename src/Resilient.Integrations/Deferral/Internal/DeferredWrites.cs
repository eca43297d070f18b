using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Deferral.Internal;

/// <summary>Generic writes: delivered at once through the integration's policies, or queued when it is down.</summary>
internal sealed class DeferredWrites(
    IServiceProvider services,
    IntegrationRegistry registry,
    IEnumerable<IDeferredWriteHandler> handlers,
    IOptionsMonitor<ResilientIntegrationOptions> options,
    TimeProvider time) : IDeferredWrites
{
    public async Task<Deferral?> SendOrQueueAsync(
        string integration, string handler, ReadOnlyMemory<byte> payload, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(integration);
        var target = Handler(handlers, handler);
        var runtime = registry.Get(integration);
        _ = runtime.DeferredWrites ?? throw new InvalidOperationException("No IDeferredWriteStore is registered: add one (e.g. AddSqliteDeferredWriteStore) to defer writes.");
        var policy = options.Get(integration).Deferral;
        var now = time.GetUtcNow();
        var write = new DeferredWrite
        {
            Integration = integration,
            Handler = handler,
            Body = payload.ToArray(),
            IdempotencyKey = string.IsNullOrWhiteSpace(idempotencyKey) ? Guid.NewGuid().ToString("N") : idempotencyKey,
            EnqueuedAt = now,
            NextAttemptAt = now,
        };

        var failure = FailureClassification.Success;
        if (!(policy.QueueWhileRed && runtime.Health.Get(integration).State == HealthState.Red))
        {
            try
            {
                var calls = (ResilientIntegration)services.GetRequiredKeyedService<IResilientIntegration>(integration);
                await calls.ExecuteAsync(
                    "write:" + write.IdempotencyKey,
                    async ct =>
                    {
                        await target.HandleAsync(write, ct).ConfigureAwait(false);
                        return true;
                    },
                    useFallback: false,
                    cancellationToken,
                    safeToRepeat: true).ConfigureAwait(false); // the handler gets the write's idempotency key
                return null;
            }
            catch (IntegrationFailureException ex) when (policy.DeferOn.Contains(ex.Kind))
            {
                failure = ex.Classification;
            }
        }

        long id = await DeferredWriteQueue.EnqueueAsync(runtime, write, failure, cancellationToken).ConfigureAwait(false);
        runtime.Metrics.WriteDeferred(integration);
        return new Deferral(id, write.IdempotencyKey, integration, failure);
    }

    internal static IDeferredWriteHandler Handler(IEnumerable<IDeferredWriteHandler> handlers, string name) =>
        handlers.LastOrDefault(h => string.Equals(h.Name, name, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"No IDeferredWriteHandler named '{name}' is registered.");
}
