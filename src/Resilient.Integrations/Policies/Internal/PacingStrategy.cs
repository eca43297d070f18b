using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Holds a request while the integration's rate limit is spent, then lets it through; a hold longer than
/// the pacing cap or the call's time left fails at once as RateLimit. Learns resets from every response.
/// </summary>
internal sealed class PacingStrategy(IntegrationRuntime runtime, PacingPolicy policy) : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var call = CallState.Of(context);
        if (!runtime.Pacing.TryReserve(policy.MaxWait, call, out var hold))
        {
            return Outcome.FromException<HttpResponseMessage>(new PacingRejectedException(hold));
        }

        if (hold > TimeSpan.Zero)
        {
            runtime.Metrics.PacingHold(runtime.Name);
            Log.PacingHold(runtime.Logger, runtime.Name, hold);
            try
            {
                await Task.Delay(hold, runtime.Time, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
            }
            catch (OperationCanceledException ex)
            {
                runtime.Pacing.ReturnSlot(); // nobody will use it; the requests behind must not wait for it
                return Outcome.FromException<HttpResponseMessage>(ex);
            }
        }

        var sent = runtime.Pacing.Mark();
        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        if (outcome.Result is { } response)
        {
            var classification = call?.ClassificationOf(response) ?? FailureClassification.Success;
            runtime.Pacing.Observe(response.Headers, classification, policy.MaxWait, sent);
        }

        return outcome;
    }
}
