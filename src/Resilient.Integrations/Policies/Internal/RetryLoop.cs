using Polly;
using Polly.Retry;
using Polly.Telemetry;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The retries of an HTTP call, run by the outcome step as Polly's retry strategy runs them (every attempt and every
/// retry reported to Polly's telemetry, under the outcome step's name; the failed answer disposed before the wait; a
/// cancellation after a failure worth retrying returned as the cancellation), with <see cref="RetryPlanner"/> deciding,
/// without a pipeline step of its own on every call.
/// </summary>
internal sealed class RetryLoop(IntegrationRuntime runtime, RetryPlanner planner, ResilienceStrategyTelemetry telemetry)
{
    private const string AttemptEvent = "ExecutionAttempt";
    private const string RetryEvent = "OnRetry";

    private readonly int _maxRetries = planner.MaxRetries;
    private readonly Func<Outcome<HttpResponseMessage>, ResilienceContext, ValueTask<FailureClassification>> _classify = runtime.ClassifyAsync; // made once, not per attempt

    public async ValueTask<Outcome<HttpResponseMessage>> RunAsync<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state, long callStarted)
    {
        for (int attempt = 0; ; attempt++)
        {
            // The first attempt starts with the call (a clock read less on every call).
            long started = attempt == 0 ? callStarted : runtime.Time.GetTimestamp();
            Outcome<HttpResponseMessage> outcome;
            try
            {
                outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            }
            catch (Exception ex)
            {
                outcome = Outcome.FromException<HttpResponseMessage>(ex);
            }

            bool retry = await planner.ShouldHandle(outcome, context, _classify).ConfigureAwait(context.ContinueOnCapturedContext);
            var took = runtime.Time.GetElapsedTime(started);
            bool last = attempt >= _maxRetries;
            var severity = !retry ? ResilienceEventSeverity.Information : last ? ResilienceEventSeverity.Error : ResilienceEventSeverity.Warning;
            telemetry.Report(new ResilienceEvent(severity, AttemptEvent), context, outcome, new ExecutionAttemptArguments(attempt, took, retry));
            // A cancellation after a failure worth retrying ends below, as the cancellation it is (as Polly's loop does).
            if (last || !retry)
            {
                return outcome;
            }

            var delay = CallState.Of(context)?.PlannedDelay ?? TimeSpan.Zero;
            telemetry.Report(new ResilienceEvent(ResilienceEventSeverity.Warning, RetryEvent), context, outcome, new OnRetryArguments<HttpResponseMessage>(context, outcome, attempt, delay, took));
            outcome.Result?.Dispose();
            try
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, runtime.Time, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                }
            }
            catch (OperationCanceledException ex)
            {
                return Outcome.FromException<HttpResponseMessage>(ex);
            }
        }
    }
}
