using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>One <see cref="IntegrationRuntime"/> per integration name, created on first use.</summary>
internal sealed class IntegrationRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, IntegrationRuntime> _runtimes = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<FailureClassifierOptions> _classifierOptions;
    private readonly IOptionsMonitor<ResilientIntegrationOptions> _integrationOptions;
    private readonly TimeProvider _time;
    private readonly IntegrationMetrics _metrics;
    private readonly IAlertDispatcher _alerts;
    private readonly ILoggerFactory _loggerFactory;
    private readonly HealthMonitor _health;
    private readonly IDeferredWriteStore? _deferredWrites;
    private readonly IDeferredWriteProtector? _deferredWriteProtector;
    private readonly IDistributedCache? _sharedCache;
    private readonly SharedPacing? _sharedPacing;

    public IntegrationRegistry(
        IOptionsMonitor<FailureClassifierOptions> classifierOptions,
        IOptionsMonitor<ResilientIntegrationOptions> integrationOptions,
        TimeProvider time,
        IntegrationMetrics metrics,
        IAlertDispatcher alerts,
        ILoggerFactory loggerFactory,
        HealthMonitor health,
        IEnumerable<IDeferredWriteStore> deferredWriteStores,
        IEnumerable<IDeferredWriteProtector> deferredWriteProtectors,
        IEnumerable<IDistributedCache> sharedCaches,
        IEnumerable<ISharedRateBudget> sharedBudgets)
    {
        _classifierOptions = classifierOptions;
        _integrationOptions = integrationOptions;
        _time = time;
        _metrics = metrics;
        _alerts = alerts;
        _loggerFactory = loggerFactory;
        _health = health;
        _deferredWrites = deferredWriteStores.LastOrDefault();
        _deferredWriteProtector = deferredWriteProtectors.LastOrDefault();
        _sharedCache = sharedCaches.LastOrDefault();
        metrics.WatchStates(
            () => health.GetAll().Select(h => (h.Integration, (int)h.State)),
            () => _runtimes.Values.Select(r => (r.Name, r.CircuitState)).Where(c => c.CircuitState is not null).Select(c => (c.Name, Gauge(c.CircuitState!.Value))));
        if (sharedBudgets.LastOrDefault() is { } budget)
        {
            budget.OnHold(HoldElsewhere);
            _sharedPacing = new SharedPacing(budget, loggerFactory.CreateLogger("Resilient.Integrations.Pacing"), time);
        }
    }

    public IntegrationRuntime Get(string name) => _runtimes.GetOrAdd(name, n => new IntegrationRuntime(
        n,
        new FailureClassifier(_classifierOptions.Get(n), _time),
        _time,
        _metrics,
        _alerts,
        _loggerFactory.CreateLogger("Resilient.Integrations." + n),
        _integrationOptions.Get(n).Fallback.SizeLimitBytes,
        _health,
        _deferredWrites,
        _deferredWriteProtector,
        _sharedCache)
    {
        SharedPacing = _sharedPacing,
    });

    /// <summary>The circuit gauge's scale: worse is higher.</summary>
    private static int Gauge(Polly.CircuitBreaker.CircuitState state) => state switch
    {
        Polly.CircuitBreaker.CircuitState.Closed => 0,
        Polly.CircuitBreaker.CircuitState.HalfOpen => 1,
        Polly.CircuitBreaker.CircuitState.Open => 2,
        _ => 3,
    };

    /// <summary>The runtime of an integration already in use, without creating one.</summary>
    public IntegrationRuntime? Find(string name) => _runtimes.TryGetValue(name, out var runtime) ? runtime : null;

    public void Dispose()
    {
        foreach (var runtime in _runtimes.Values)
        {
            runtime.Dispose();
        }
    }

    /// <summary>A hold another instance learned holds this one's requests too (at most an hour: one absurd report cannot lock it out).</summary>
    private void HoldElsewhere(RateBudgetHold hold)
    {
        if (hold.Integration is { } name && hold.Hold > TimeSpan.Zero && _runtimes.TryGetValue(name, out var runtime))
        {
            runtime.Pacing.HoldFor(hold.Hold < TimeSpan.FromHours(1) ? hold.Hold : TimeSpan.FromHours(1));
        }
    }
}
