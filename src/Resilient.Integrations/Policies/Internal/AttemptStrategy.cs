using Polly;
using Polly.Telemetry;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// One attempt, in one step: the circuit lets it through, pacing holds it while the rate limit is spent, the attempt
/// timeout bounds the send and the read of what classification needs, classification judges the answer, pacing learns
/// from it and the circuit counts it. The same work as the circuit-breaker, pacing, attempt-timeout and classify
/// strategies in a row, without three pipeline steps on every call.
/// </summary>
internal sealed class AttemptStrategy(
    IntegrationRuntime runtime, TimeSpan timeout, Circuit? circuit, PacingStrategy? pacing, ClassifyStrategy classify, ResilienceStrategyTelemetry telemetry)
    : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        if (circuit?.Enter(context) is { } broken)
        {
            return Outcome.FromException<HttpResponseMessage>(broken);
        }

        var call = CallState.Of(context);
        Outcome<HttpResponseMessage> outcome;
        try
        {
            PacingPass pass = default;
            if (pacing is not null && (pass = await pacing.AdmitAsync(call, context).ConfigureAwait(context.ContinueOnCapturedContext)).Refusal is { } refused)
            {
                outcome = refused;
            }
            else
            {
                bool timedOut;
                var deadline = ContextDeadline.Start(context, timeout, runtime.Time);
                try
                {
                    outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
                    if (outcome.Result is not null)
                    {
                        outcome = await classify.InspectAsync(outcome, context, call).ConfigureAwait(context.ContinueOnCapturedContext);
                    }
                }
                catch (Exception ex)
                {
                    outcome = Outcome.FromException<HttpResponseMessage>(ex); // as Polly's timeout: an outcome, never a throw
                }
                finally
                {
                    timedOut = deadline.End();
                }

                outcome = timedOut ? ContextDeadline.TimedOut(outcome, context, timeout, telemetry, "attempt") : ContextDeadline.ForCaller(outcome, context.CancellationToken);

                if (pacing is not null)
                {
                    await pacing.LearnAsync(outcome, call, pass, context).ConfigureAwait(context.ContinueOnCapturedContext);
                }
            }
        }
        catch (Exception ex) when (circuit is not null)
        {
            // As Polly's breaker step: every attempt the circuit let through is counted, or a probe that threw would
            // leave the circuit half-open, refusing every call.
            outcome = Outcome.FromException<HttpResponseMessage>(ex);
        }

        if (circuit is not null)
        {
            // A pacing refusal is judged as Polly's breaker outside the pacing step judged it: a hold says nothing about
            // the service, but one the total timeout cut counts as a timeout.
            if (outcome.Result is { } plain && call is not null && call.IsPlainSuccess(plain))
            {
                circuit.Record(outcome, false, context);
            }
            else if (outcome.Result is { } answer && call?.ClassificationOf(answer) is { } known)
            {
                circuit.Record(outcome, PipelineComposer.CountsAgainstCircuit(known), context); // classified above: no look-up
            }
            else
            {
                var counts = PipelineComposer.CountsAgainstCircuit(outcome, context, runtime.ClassifyAsync);
                circuit.Record(outcome, counts.IsCompletedSuccessfully ? counts.Result : await counts.ConfigureAwait(context.ContinueOnCapturedContext), context);
            }
        }

        return outcome;
    }
}
