using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>One <see cref="IntegrationRuntime"/> per integration name, created on first use.</summary>
internal sealed class IntegrationRegistry(
    IOptionsMonitor<FailureClassifierOptions> classifierOptions,
    IOptionsMonitor<ResilientIntegrationOptions> integrationOptions,
    TimeProvider time,
    IntegrationMetrics metrics,
    IAlertDispatcher alerts,
    ILoggerFactory loggerFactory,
    HealthMonitor health,
    IEnumerable<Deferral.IDeferredWriteStore> deferredWriteStores,
    IEnumerable<Deferral.IDeferredWriteProtector> deferredWriteProtectors,
    IEnumerable<Microsoft.Extensions.Caching.Distributed.IDistributedCache> sharedCaches) : IDisposable
{
    private readonly ConcurrentDictionary<string, IntegrationRuntime> _runtimes = new(StringComparer.Ordinal);

    public IntegrationRuntime Get(string name) => _runtimes.GetOrAdd(name, n => new IntegrationRuntime(
        n,
        new FailureClassifier(classifierOptions.Get(n), time),
        time,
        metrics,
        alerts,
        loggerFactory.CreateLogger("Resilient.Integrations." + n),
        integrationOptions.Get(n).Fallback.SizeLimitBytes,
        health,
        deferredWriteStores.LastOrDefault(),
        deferredWriteProtectors.LastOrDefault(),
        sharedCaches.LastOrDefault()));

    public void Dispose()
    {
        foreach (var runtime in _runtimes.Values)
        {
            runtime.Dispose();
        }
    }
}
