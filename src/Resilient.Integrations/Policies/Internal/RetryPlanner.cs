using Polly;
using Polly.Retry;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Telemetry.Internal;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Decides per failure kind whether and when to retry: the kind's own retry count and backoff, the server's
/// hint (waiting max(hint, backoff)), the call's remaining time budget and the integration's retry budget.
/// A wait that would not fit is not taken: the failure surfaces at once so a fallback can serve.
/// </summary>
internal sealed class RetryPlanner(IntegrationRuntime runtime, ResilientIntegrationOptions options)
{
    /// <summary>Retry options for any result type; <paramref name="classify"/> names what an outcome is.</summary>
    public RetryStrategyOptions<T> ToStrategyOptions<T>(Func<Outcome<T>, ResilienceContext, ValueTask<FailureClassification>> classify) => new()
    {
        Name = "Retry",
        MaxRetryAttempts = MaxRetries,
        ShouldHandle = args => ShouldHandle(args.Outcome, args.Context, classify),
        DelayGenerator = args => new ValueTask<TimeSpan?>(CallState.Of(args.Context)?.PlannedDelay ?? TimeSpan.Zero),
    };

    /// <summary>The largest number of retries a call may take: each kind's own, at least one for those a server may ask to repeat.</summary>
    public int MaxRetries => Enum.GetValues<FailureKind>().Sum(k => k == FailureKind.None ? 0 : Math.Max(1, options.PolicyFor(k).MaxRetries));

    /// <summary>Whether the outcome is retried; when it is, the call's <see cref="CallState.PlannedDelay"/> says after how long.</summary>
    public ValueTask<bool> ShouldHandle<T>(Outcome<T> outcome, ResilienceContext context, Func<Outcome<T>, ResilienceContext, ValueTask<FailureClassification>> classify)
    {
        if (outcome.Exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new(false);
        }

        // The innermost step has classified the answer already: no state machine on the success path.
        var classification = classify(outcome, context);
        return classification.IsCompletedSuccessfully
            ? new(ShouldRetry(classification.Result, context))
            : ShouldRetryAsync(classification, context);
    }

    internal static TimeSpan Backoff(FailureKindPolicy policy, int retriesSoFar)
    {
        double ms = policy.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retriesSoFar, 30));
        if (policy.UseJitter)
        {
#pragma warning disable CA5394 // Jitter spreads retries; it needs no cryptographic randomness.
            ms *= 0.75 + (Random.Shared.NextDouble() * 0.5);
#pragma warning restore CA5394
        }

        return TimeSpan.FromMilliseconds(Math.Min(ms, policy.MaxDelay.TotalMilliseconds));
    }

    private async ValueTask<bool> ShouldRetryAsync(ValueTask<FailureClassification> classification, ResilienceContext context) =>
        ShouldRetry(await classification.ConfigureAwait(false), context);

    private bool ShouldRetry(FailureClassification classification, ResilienceContext context)
    {
        if (!classification.IsFailure)
        {
            return false;
        }

        var kind = classification.Kind;
        if (CallState.Of(context) is not { } call || call.IsProbe || !classification.IsFailure || classification.IsCancellation)
        {
            return false;
        }

        var policy = options.PolicyFor(kind);
        int done = call.RetriesFor(kind);

        // For transient kinds, RetryMayHelp false means the server (x-should-retry) or an open circuit said no;
        // for the others, true means the server or a rule said a retry is worth one try.
        int allowed = !kind.IsTransient() && classification.RetryMayHelp ? Math.Max(1, policy.MaxRetries) : policy.MaxRetries;
        if (done >= allowed || (kind.IsTransient() && !classification.RetryMayHelp))
        {
            return false;
        }

        if (!call.Repeatable && !RepeatSafety.ProvesNotActedOn(classification))
        {
            Log.WriteNotRepeated(runtime.Logger, runtime.Name, kind);
            return false;
        }

        var delay = Backoff(policy, done);
        if (classification.RetryAfter is { } hint)
        {
            if (hint > policy.MaxDelay)
            {
                Log.HintTooLong(runtime.Logger, runtime.Name, hint, kind);
                return false;
            }

            var wait = ServerHint.Wait(hint);
            delay = wait > delay ? wait : delay;
        }

        if (delay >= call.Remaining(runtime.Time))
        {
            Log.HintTooLong(runtime.Logger, runtime.Name, delay, kind);
            return false;
        }

        if (!runtime.Budget.TryAcquireRetry(options.RetryBudget))
        {
            runtime.Metrics.BudgetRejection(runtime.Name);
            Log.RetryBudgetSpent(runtime.Logger, runtime.Name, kind);
            return false;
        }

        call.CountRetry(kind);
        call.PlannedDelay = delay;
        runtime.Metrics.Retry(runtime.Name, kind);
        Log.RetryScheduled(runtime.Logger, runtime.Name, done + 1, kind, delay);
        return true;
    }
}
