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
        var shared = runtime.SharedPacing;
        RateBudgetGrant grant = default;
        TimeSpan hold;

        // Only a provider that reports a budget has one to share; other integrations never wait on the store.
        if (shared is not null && runtime.Pacing.HasBudget && MaxWait(call) is var maxWait &&
            await shared.TryTakeAsync(runtime.Name, maxWait, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext) is { } taken)
        {
            grant = taken;
            hold = runtime.Pacing.HoldTime() is var local && local > taken.Wait ? local : taken.Wait;
            if (!taken.Admitted || hold > maxWait)
            {
                return Outcome.FromException<HttpResponseMessage>(new PacingRejectedException(hold));
            }
        }
        else if (!runtime.Pacing.TryReserve(policy.MaxWait, call, out hold))
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
                if (grant.At == 0)
                {
                    runtime.Pacing.ReturnSlot(); // nobody will use it; the requests behind must not wait for it
                }
                return Outcome.FromException<HttpResponseMessage>(ex);
            }
        }

        var sent = runtime.Pacing.Mark();
        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        // An answer without headers teaches nothing but a rate limit's spent budget.
        if (outcome.Result is { } response &&
            (Integrations.Internal.MessageHeaders.Any(response) || call?.ClassificationOf(response) is not { Kind: not FailureKind.RateLimit }))
        {
            var classification = call?.ClassificationOf(response) ?? FailureClassification.Success;
            var lesson = runtime.Pacing.Observe(response.Headers, classification, policy.MaxWait, sent);
            if (shared is not null && !lesson.IsEmpty)
            {
                await shared.ReportAsync(runtime.Name, lesson, grant).ConfigureAwait(context.ContinueOnCapturedContext);
            }
        }

        return outcome;
    }

    /// <summary>The longest this request may be held: the pacing cap, and less than the call's time left.</summary>
    private TimeSpan MaxWait(CallState? call)
    {
        var left = call is null ? TimeSpan.MaxValue : call.Remaining(runtime.Time) - TimeSpan.FromMilliseconds(1);
        return left < policy.MaxWait ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : policy.MaxWait;
    }
}
