using System.Globalization;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Builds the circuits per key: each the integration's circuit-breaker settings, with what an opening means
/// depending on what the circuit guards. A host's circuit or an endpoint's with another endpoint left turns the
/// integration Yellow (naming the host or endpoint), not Red: other calls are still answered. The integration-wide
/// circuit, and the last endpoint's circuit once every endpoint's is open, turn it Red as the single circuit does.
/// </summary>
internal static class KeyedCircuitOptions
{
    /// <summary>How many break (or sampling) periods a circuit may go unused before it is dropped.</summary>
    private const int IdlePeriods = 4;

    public static KeyedCircuits Create(IntegrationRuntime runtime, ResilientIntegrationOptions options)
    {
        var policy = options.CircuitBreaker;
        var idle = TimeSpan.FromTicks(IdlePeriods * Math.Max(policy.BreakDuration.Ticks, policy.SamplingDuration.Ticks));
        // Hosts, or the one integration-wide circuit; the endpoints; and, without a base address, a primary per authority.
        int endpoints = options.Failover.Endpoints.Count;
        int bound = (policy.PerHost ? policy.MaxHosts : 1) + (endpoints == 0 ? 0 : endpoints + (options.BaseAddress is null ? policy.MaxHosts : 1));
        KeyedCircuits? circuits = null;
        circuits = new KeyedCircuits(runtime.Time, bound, idle, circuit => Build(runtime, policy, circuit, () => circuits!));
        circuits.Dropped += circuit => runtime.Health.SetDegraded(runtime.Name, DegradedReason(circuit), degraded: false);
        return circuits;
    }

    private static string DegradedReason(KeyedCircuit circuit) => circuit.Role == CircuitRole.Host
        ? "circuit open for host " + circuit.Label
        : "circuit open for endpoint " + circuit.Label;

    private static ResiliencePipeline<HttpResponseMessage> Build(
        IntegrationRuntime runtime, CircuitBreakerPolicy policy, KeyedCircuit circuit, Func<KeyedCircuits> all) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { Name = runtime.Name + "-circuit", TimeProvider = runtime.Time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                Name = "CircuitBreaker",
                FailureRatio = policy.FailureRatio,
                MinimumThroughput = policy.MinimumThroughput,
                SamplingDuration = policy.SamplingDuration,
                BreakDuration = policy.BreakDuration,
                StateProvider = circuit.State,
                ShouldHandle = args => PipelineComposer.CountsAgainstCircuit(args.Outcome, args.Context, runtime.ClassifyAsync),
                OnOpened = args =>
                {
                    circuit.Opened((runtime.Time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    var kind = args.Outcome.Exception is TimeoutRejectedException or OperationCanceledException ? FailureKind.Timeout : FailureKind.Unavailable;
                    Opened(runtime, policy, circuit, all(), args.BreakDuration, kind);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    circuit.Closed();
                    return default;
                },
                OnClosed = _ =>
                {
                    circuit.Closed();
                    Log.KeyedCircuitClosed(runtime.Logger, runtime.Name, circuit.Label);
                    if (circuit.Role != CircuitRole.Whole)
                    {
                        runtime.Health.SetDegraded(runtime.Name, DegradedReason(circuit), degraded: false);
                    }

                    return default;
                },
            })
            .Build();

    private static void Opened(IntegrationRuntime runtime, CircuitBreakerPolicy policy, KeyedCircuit circuit, KeyedCircuits all, TimeSpan breakDuration, FailureKind kind)
    {
        Log.KeyedCircuitOpened(runtime.Logger, runtime.Name, circuit.Label, breakDuration, kind);
        long now = runtime.Time.GetUtcNow().UtcTicks;

        // Red when nothing is left to answer: the integration's own circuit, or every endpoint's.
        bool nothingLeft = circuit.Role == CircuitRole.Whole ||
            (circuit.Role == CircuitRole.Endpoint && all.All.Where(c => c.Role == CircuitRole.Endpoint).All(c => c.IsKnownOpen(now)));
        // A circuit dropped (idle, bound, reload) while it opened has nobody left to clear its Yellow.
        if (!nothingLeft && all.TryGet(circuit.Key, out var current) && ReferenceEquals(current, circuit))
        {
            runtime.Health.SetDegraded(runtime.Name, DegradedReason(circuit), degraded: true);
        }

        if (policy.Alert is { } severity)
        {
            string what = circuit.Role switch
            {
                CircuitRole.Host => $"circuit opened for host {circuit.Label} for {breakDuration}: calls to it fail fast; other hosts are not affected",
                CircuitRole.Endpoint when !nothingLeft => $"circuit opened for endpoint {circuit.Label} for {breakDuration}: calls go to the next endpoint",
                CircuitRole.Endpoint => $"circuit opened for endpoint {circuit.Label} for {breakDuration}: every endpoint's circuit is open, calls fail fast",
                _ => $"circuit opened for {breakDuration}: calls fail fast without reaching the service",
            };
            runtime.RaiseAlert(
                nothingLeft ? severity : (severity > AlertSeverity.Warning ? AlertSeverity.Warning : severity),
                kind,
                what,
                new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["break_duration"] = breakDuration.ToString("c", CultureInfo.InvariantCulture),
                    [circuit.Role == CircuitRole.Host ? "host" : "endpoint"] = circuit.Label,
                },
                topic: circuit.Role == CircuitRole.Whole ? "circuit" : "circuit " + circuit.Label);
        }

        if (nothingLeft)
        {
            runtime.Health.ForceRed(runtime.Name, new FailureClassification(kind) { Reason = "circuit open" });
        }
    }
}
