using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Simmy;
using Polly.Timeout;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Builds an integration's pipeline, outer to inner: outcome → total timeout → retry → circuit breaker → pacing →
/// attempt timeout → classify (docs/architecture.md, "The pipeline", says why in this order), in two Polly steps when
/// <see cref="ContextDeadline"/> can scope the context's token: outcome with the total timeout and the retries, and one
/// attempt step with the circuit (a third step between them for circuits per key). Rebuilt by the resilience handler when
/// options reload.
/// </summary>
internal static class PipelineComposer
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "StrategyOptions carries no data-annotation attributes to validate.")]
    public static void Compose(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context, string name)
    {
        context.EnableReloads<ResilientIntegrationOptions>(name);
        var options = context.GetOptions<ResilientIntegrationOptions>(name);
        var runtime = context.ServiceProvider.GetRequiredService<IntegrationRegistry>().Get(name);
        var redactor = new SecretRedactor(options.SensitiveHeaders);

        // Rebuilt on reload: the circuits per key start afresh, and what the old ones reported to health goes.
        runtime.KeyedCircuits?.DropAll();
        builder.TimeProvider = runtime.Time;
        // With a way to scope the context's token, the outcome step owns the total timeout and the attempt step the
        // attempt timeout: two pipeline steps fewer on every call than a strategy for each.
        // The retries run inside the total timeout, in the outcome step too: one pipeline step fewer again.
        bool ownTimeouts = ContextDeadline.IsAvailable;
        var planner = new RetryPlanner(runtime, options);
        builder.AddStrategy(
            c => new OutcomeStrategy(runtime, options, redactor, ownTimeouts ? c.Telemetry : null, ownTimeouts ? new RetryLoop(runtime, planner, c.Telemetry) : null),
            new StrategyOptions("Outcome"));
        if (!ownTimeouts)
        {
            builder
                .AddTimeout(new TimeoutStrategyOptions { Name = "TotalTimeout", Timeout = options.TotalTimeout })
                .AddRetry(planner.ToStrategyOptions<HttpResponseMessage>(runtime.ClassifyAsync));
        }

        // Circuits per key only when asked for: otherwise the one circuit, with nothing on the path to look up.
        if (options.Failover.Endpoints.Count > 0 || options.CircuitBreaker.PerHost)
        {
            var circuits = KeyedCircuitOptions.Create(runtime, options);
            var routes = options.Failover.Endpoints.Count > 0 ? new Failover.Internal.FailoverRoutes(options.BaseAddress, options.Failover.Endpoints) : null;
            runtime.Circuit = null;
            runtime.KeyedCircuits = circuits;
            builder.AddStrategy(_ => new KeyedCircuitStrategy(runtime, options, circuits, routes), new StrategyOptions("CircuitBreaker"));
        }
        else if (!ownTimeouts)
        {
            var circuit = new CircuitBreakerStateProvider();
            runtime.Circuit = () => circuit.CircuitState;
            runtime.KeyedCircuits = null;
            builder.AddCircuitBreaker(CircuitBreaker<HttpResponseMessage>(runtime, options.CircuitBreaker, circuit, runtime.ClassifyAsync));
        }
        else
        {
            runtime.KeyedCircuits = null; // the attempt step runs the one circuit
        }

        var pacing = options.Pacing.Enabled ? new PacingStrategy(runtime, options.Pacing) : null;
        var classify = new ClassifyStrategy(runtime, options, redactor);
        if (ownTimeouts)
        {
            // The one circuit runs in the attempt step too: the breaker's pipeline step, its two locks and clock read are
            // the largest share of what a success costs beyond the send (docs/benchmarks.md).
            bool ownCircuit = runtime.KeyedCircuits is null;
            builder.AddStrategy(
                c =>
                {
                    Circuit? circuit = null;
                    if (ownCircuit)
                    {
                        circuit = new Circuit(options.CircuitBreaker, runtime.Time, c.Telemetry, (breakDuration, outcome) => CircuitOpened(runtime, options.CircuitBreaker, breakDuration, outcome.Exception), () => Log.CircuitClosed(runtime.Logger, runtime.Name));
                        runtime.Circuit = () => circuit.State;
                    }

                    return new AttemptStrategy(runtime, options.AttemptTimeout, circuit, pacing, classify, c.Telemetry);
                },
                new StrategyOptions("Attempt"));
        }
        else
        {
            // A Polly without a way to scope the context's token: the same steps, one strategy each.
            if (pacing is not null)
            {
                builder.AddStrategy(_ => pacing, new StrategyOptions("Pacing"));
            }

            builder
                .AddTimeout(new TimeoutStrategyOptions { Name = "AttemptTimeout", Timeout = options.AttemptTimeout })
                .AddStrategy(_ => classify, new StrategyOptions("Classify"));
        }

        // Innermost, in place of the send: every policy above sees an injected failure exactly as a real one.
        if (Chaos.Internal.ChaosFaults.IsActive(options.Chaos, context.ServiceProvider))
        {
            builder.AddChaosOutcome(Chaos.Internal.ChaosFaults.Options(options.Chaos));
        }
    }

    /// <summary>
    /// The pipeline for calls that are not plain HttpClient calls (SDK delegates): the same total timeout,
    /// retry, circuit breaker and attempt timeout, classifying what the delegate throws.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "StrategyOptions carries no data-annotation attributes to validate.")]
    public static ResiliencePipeline<object?> ComposeForDelegates(IntegrationRuntime runtime, ResilientIntegrationOptions options, Polly.Telemetry.TelemetryOptions? telemetry = null)
    {
        ValueTask<FailureClassification> Classify(Outcome<object?> outcome, ResilienceContext context) =>
            new(outcome.Exception is { } ex ? runtime.Classifier.Classify(ex, context.CancellationToken) : FailureClassification.Success);

        // An SDK on the integration's own HttpClient: that pipeline's breaker already counted the failure; a
        // second circuit here would alert again and stay open after the first one closed.
        ValueTask<FailureClassification> ClassifyForBreaker(Outcome<object?> outcome, ResilienceContext context) =>
            outcome.Exception is { } ex && IntegrationFailureException.Find(ex, runtime.Name) is not null
                ? new(FailureClassification.Success)
                : Classify(outcome, context);

        var builder = new ResiliencePipelineBuilder<object?> { Name = runtime.Name + "-delegates", TimeProvider = runtime.Time };
        if (telemetry is not null)
        {
            builder.ConfigureTelemetry(telemetry); // the same resilience events and metrics as the HTTP pipelines
        }

        return builder
            .AddTimeout(new TimeoutStrategyOptions { Name = "TotalTimeout", Timeout = options.TotalTimeout })
            .AddRetry(new RetryPlanner(runtime, options).ToStrategyOptions<object?>(Classify))
            .AddCircuitBreaker(CircuitBreaker<object?>(runtime, options.CircuitBreaker, new CircuitBreakerStateProvider(), ClassifyForBreaker))
            .AddStrategy(_ => new AttemptDeadlineStrategy(runtime.Time, options.AttemptTimeout), new StrategyOptions("AttemptTimeout"))
            .Build();
    }

    /// <summary>A circuit opened: logged, alerted (a <c>circuit</c> alert of its own) and health forced Red.</summary>
    private static void CircuitOpened(IntegrationRuntime runtime, CircuitBreakerPolicy policy, TimeSpan breakDuration, Exception? cause)
    {
        var kind = cause is TimeoutRejectedException or OperationCanceledException ? FailureKind.Timeout : FailureKind.Unavailable;
        Log.CircuitOpened(runtime.Logger, runtime.Name, breakDuration, kind);
        if (policy.Alert is { } severity)
        {
            runtime.RaiseAlert(
                severity,
                kind,
                $"circuit opened for {breakDuration}: calls fail fast without reaching the service",
                new Dictionary<string, string>(StringComparer.Ordinal) { ["break_duration"] = breakDuration.ToString() },
                topic: "circuit");
        }

        // The circuit's alert has an identity of its own: the health layer's "is Red" of the same kind, often
        // raised earlier by the failures that opened the circuit, never suppresses it.
        runtime.Health.ForceRed(runtime.Name, new FailureClassification(kind) { Reason = "circuit open" });
    }

    /// <summary>Only an unhealthy service opens the circuit; a 429, a 401 or a bad request never does.</summary>
    internal static ValueTask<bool> CountsAgainstCircuit<T>(
        Outcome<T> outcome, ResilienceContext context, Func<Outcome<T>, ResilienceContext, ValueTask<FailureClassification>> classify)
    {
        if (outcome.Exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new(CancellationCounts(context));
        }

        // Classified by the innermost step already: no state machine on the success path.
        ValueTask<FailureClassification> classification;
        try
        {
            classification = classify(outcome, context);
        }
        catch (Exception ex)
        {
            return new(ClassificationFailedCounts(ex, context));
        }

        return classification.IsCompletedSuccessfully ? new(CountsAgainstCircuit(classification.Result)) : CountsAgainstCircuitAsync(classification, context);
    }

    internal static bool CountsAgainstCircuit(FailureClassification classification) => classification.Kind is FailureKind.Unavailable or FailureKind.Timeout;

    private static async ValueTask<bool> CountsAgainstCircuitAsync(ValueTask<FailureClassification> classification, ResilienceContext context)
    {
        try
        {
            return CountsAgainstCircuit(await classification.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            return ClassificationFailedCounts(ex, context);
        }
    }

    /// <summary>
    /// The caller's own cancellation says nothing about the service; the total timeout cutting an attempt does: it counts
    /// as a timeout, so a hanging half-open probe cannot close the circuit. A slow read's live call abandoned past
    /// Fallback:MaxBackgroundRefreshes counts as a timeout too: counted as a success, abandoned calls to a hanging service
    /// would keep its circuit closed, and one would close it when half-open.
    /// </summary>
    private static bool CancellationCounts(ResilienceContext context) =>
        CallState.Of(context) is { } call && (call.Abandoned || !call.CallerToken.IsCancellationRequested);

    /// <summary>
    /// A classification that throws (a user's rule with a bug) still has the attempt counted, as a failure: a circuit
    /// that never heard of its half-open probe would refuse every call. The retry step classifies the same outcome with
    /// the same rules, so the caller still gets the rule's exception.
    /// </summary>
    private static bool ClassificationFailedCounts(Exception exception, ResilienceContext context) =>
        exception is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested || CancellationCounts(context);

    private static CircuitBreakerStrategyOptions<T> CircuitBreaker<T>(
        IntegrationRuntime runtime,
        CircuitBreakerPolicy policy,
        CircuitBreakerStateProvider circuit,
        Func<Outcome<T>, ResilienceContext, ValueTask<FailureClassification>> classify) => new()
    {
        Name = "CircuitBreaker",
        FailureRatio = policy.FailureRatio,
        MinimumThroughput = policy.MinimumThroughput,
        SamplingDuration = policy.SamplingDuration,
        BreakDuration = policy.BreakDuration,
        StateProvider = circuit,

        ShouldHandle = args => CountsAgainstCircuit(args.Outcome, args.Context, classify),
        OnOpened = args =>
        {
            CircuitOpened(runtime, policy, args.BreakDuration, args.Outcome.Exception);
            return default;
        },
        OnClosed = _ =>
        {
            Log.CircuitClosed(runtime.Logger, runtime.Name);
            return default;
        },
    };
}
