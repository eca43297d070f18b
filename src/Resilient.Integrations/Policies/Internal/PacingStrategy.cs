using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Holds a request while the integration's rate limit is spent, then lets it through; a hold longer than
/// the pacing cap or the call's time left fails at once as RateLimit. Learns resets from every response.
/// On its own only where the attempt step cannot own the attempt timeout (<see cref="AttemptStrategy"/> runs it otherwise).
/// </summary>
internal sealed class PacingStrategy(IntegrationRuntime runtime, PacingPolicy policy) : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var call = CallState.Of(context);
        var pass = await AdmitAsync(call, context).ConfigureAwait(context.ContinueOnCapturedContext);
        if (pass.Refusal is { } refused)
        {
            return refused;
        }

        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        await LearnAsync(outcome, call, pass, context).ConfigureAwait(context.ContinueOnCapturedContext);
        return outcome;
    }

    /// <summary>Holds the attempt until the budget lets it go; the pass says when it went, or why it may not.</summary>
    public ValueTask<PacingPass> AdmitAsync(CallState? call, ResilienceContext context)
    {
        var shared = runtime.SharedPacing;
        // Only a provider that reports a budget has one to share; other integrations never wait on the store.
        if (shared is not null && runtime.Pacing.HasBudget)
        {
            return AdmitSharedAsync(shared, call, context);
        }

        if (!runtime.Pacing.TryReserve(policy.MaxWait, call, out var hold))
        {
            return new(PacingPass.Refused(hold));
        }

        return hold > TimeSpan.Zero ? HoldAsync(hold, default, context) : new(new PacingPass(runtime.Pacing.Mark(), default));
    }

    /// <summary>Learns from the attempt's answer: the budget's headers, or a rate limit's spent budget.</summary>
    public ValueTask LearnAsync(Outcome<HttpResponseMessage> outcome, CallState? call, PacingPass pass, ResilienceContext context)
    {
        // An answer without headers teaches nothing but a rate limit's spent budget.
        if (outcome.Result is not { } response ||
            !(Integrations.Internal.MessageHeaders.Any(response) || (call?.IsPlainSuccess(response) != true && call?.ClassificationOf(response) is not { Kind: not FailureKind.RateLimit })))
        {
            return default;
        }

        var classification = call?.ClassificationOf(response) ?? FailureClassification.Success;
        var lesson = runtime.Pacing.Observe(response.Headers, classification, policy.MaxWait, pass.Sent);
        return runtime.SharedPacing is { } shared && !lesson.IsEmpty ? shared.ReportAsync(runtime.Name, lesson, pass.Grant) : default;
    }

    private async ValueTask<PacingPass> AdmitSharedAsync(SharedPacing shared, CallState? call, ResilienceContext context)
    {
        var maxWait = MaxWait(call);
        if (await shared.TryTakeAsync(runtime.Name, maxWait, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext) is not { } taken)
        {
            // The store did not answer: the local gate decides, as for an integration that shares nothing.
            if (!runtime.Pacing.TryReserve(policy.MaxWait, call, out var local))
            {
                return PacingPass.Refused(local);
            }

            return local > TimeSpan.Zero ? await HoldAsync(local, default, context).ConfigureAwait(context.ContinueOnCapturedContext) : new PacingPass(runtime.Pacing.Mark(), default);
        }

        var hold = runtime.Pacing.HoldTime() is var own && own > taken.Wait ? own : taken.Wait;
        if (!taken.Admitted || hold > maxWait)
        {
            return PacingPass.Refused(hold);
        }

        return hold > TimeSpan.Zero ? await HoldAsync(hold, taken, context).ConfigureAwait(context.ContinueOnCapturedContext) : new PacingPass(runtime.Pacing.Mark(), taken);
    }

    private async ValueTask<PacingPass> HoldAsync(TimeSpan hold, RateBudgetGrant grant, ResilienceContext context)
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

            return new PacingPass(default, grant) { Refusal = Outcome.FromException<HttpResponseMessage>(ex) };
        }

        return new PacingPass(runtime.Pacing.Mark(), grant);
    }

    /// <summary>The longest this request may be held: the pacing cap, and less than the call's time left.</summary>
    private TimeSpan MaxWait(CallState? call)
    {
        var left = call is null ? TimeSpan.MaxValue : call.Remaining(runtime.Time) - TimeSpan.FromMilliseconds(1);
        return left < policy.MaxWait ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : policy.MaxWait;
    }
}

/// <summary>An attempt let through by pacing (when it went, and the shared budget's grant), or the outcome that refused it.</summary>
internal readonly record struct PacingPass(PacingMark Sent, RateBudgetGrant Grant)
{
    public Outcome<HttpResponseMessage>? Refusal { get; init; }

    public static PacingPass Refused(TimeSpan hold) =>
        new(default, default) { Refusal = Outcome.FromException<HttpResponseMessage>(new PacingRejectedException(hold)) };
}
