using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Deferral.Internal;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Health;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The outermost strategy: opens the call's time budget; once every inner policy has run, keeps a good
/// response as the last-known-good copy, or turns a final failure into its telemetry, its alert and either
/// the kept copy (marked as degraded) or a typed <see cref="IntegrationFailureException"/>. It sits outside
/// the total timeout so that a call which ran out of time can still be answered from the copy. The caller's
/// own cancellation passes through untouched: it is never a failure. The body of a response it returns is read
/// under the rest of the call's time budget and <see cref="ResilientIntegrationOptions.MaxResponseBodyBytes"/>
/// (<see cref="BoundedResponseContent"/>): HttpClient's own timeout, switched off, no longer bounds it.
/// </summary>
internal sealed class OutcomeStrategy(IntegrationRuntime runtime, ResilientIntegrationOptions options, SecretRedactor redactor)
    : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var callerToken = context.CancellationToken;
        var request = context.GetRequestMessage();
        bool isProbe = request is not null && request.Options.TryGetValue(HttpHealthProbe.ProbeKey, out bool probe) && probe;
        var fallbackKey = isProbe ? null : LastKnownGoodStore.KeyFor(request, options.Fallback, redactor);
        // Inside a delegate call of this integration (an SDK on its own client), this pipeline alone times and
        // retries the attempts, within the delegate call's budget: one layer, not two nested ones.
        var around = isProbe ? null : NestedCall.Around(runtime.Name);
        around?.Deadline?.Lift();
        var call = new CallState(around?.StartTimestamp ?? runtime.Time.GetTimestamp(), options.TotalTimeout, callerToken)
        {
            KeepBody = fallbackKey is not null && !runtime.LastKnownGood.IsFresh(fallbackKey, options.Fallback),
            IsProbe = isProbe,
        };
        context.Properties.Set(CallState.Key, call);
        runtime.Budget.RecordRequest(options.RetryBudget);

        bool deferrable = !isProbe && DeferredWriteQueue.IsDeferrable(request, options.Deferral, runtime);
        if (deferrable)
        {
            // Every attempt, the first included, carries the key its replays will carry.
            if (!request!.Headers.Contains(DeferredWriteCapture.IdempotencyKeyHeader))
            {
                request.Headers.TryAddWithoutValidation(DeferredWriteCapture.IdempotencyKeyHeader, Guid.NewGuid().ToString("N"));
            }

            // The body must outlive the attempts, so that a write that fails can still be captured.
            if (request.Content is { } content)
            {
                await content.LoadIntoBufferAsync().ConfigureAwait(context.ContinueOnCapturedContext);
            }

            if (options.Deferral.QueueWhileRed && runtime.Health.Get(runtime.Name).State == HealthState.Red)
            {
                return Outcome.FromResult(await DeferredWriteQueue.QueueAsync(request, FailureClassification.Success, runtime, options, callerToken)
                    .ConfigureAwait(context.ContinueOnCapturedContext));
            }
        }

        // After the deferral's key: a write that carries one may be repeated.
        // Inside a delegate call, what the caller declared of the whole call counts too: this layer alone retries it.
        call.Repeatable = isProbe || RepeatSafety.PrepareRequest(request, options.Writes, declaredByCall: around?.Repeatable ?? false);

        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        if (outcome.Exception is OperationCanceledException && callerToken.IsCancellationRequested)
        {
            return outcome;
        }

        var classification = await runtime.ClassifyAsync(outcome, context).ConfigureAwait(context.ContinueOnCapturedContext);
        if (!classification.IsFailure)
        {
            FeedHealth(isProbe, classification);
            if (fallbackKey is not null && outcome.Result is { IsSuccessStatusCode: true } good &&
                call.ClassificationOf(good) is not null && call.KeptBody is { } body)
            {
                var stored = runtime.LastKnownGood.Remember(fallbackKey, good, body.ToArray(), options.Fallback, redactor);
                if (options.Fallback.Shared)
                {
                    runtime.SharedCopies?.WriteBehind(fallbackKey, stored, options.Fallback);
                }
            }

            if (outcome.Result is { } response)
            {
                BoundBody(response, classification, call, request ?? response.RequestMessage);
            }

            return outcome;
        }

        classification = RepeatSafety.Annotate(classification, call.Repeatable);
        if (outcome.Result?.Content is DiscardedContent)
        {
            classification = classification with { Reason = (classification.Reason is { } reason ? reason + "; " : null) + "the body broke off while it was read and was discarded" };
        }

        request ??= outcome.Result?.RequestMessage;
        if (!isProbe)
        {
            // The call's own alert first: the health layer's "is Red" for the same kind is then the repeat.
            Report(classification, request);
        }

        FeedHealth(isProbe, classification);
        if (deferrable && options.Deferral.DeferOn.Contains(classification.Kind))
        {
            outcome.Result?.Dispose();
            return Outcome.FromResult(await DeferredWriteQueue.QueueAsync(request!, classification, runtime, options, callerToken)
                .ConfigureAwait(context.ContinueOnCapturedContext));
        }

        if (fallbackKey is not null && options.Fallback.ServeOn.Contains(classification.Kind) &&
            await LastGoodCopyAsync(fallbackKey.Value, options.Fallback, callerToken).ConfigureAwait(context.ContinueOnCapturedContext) is { } kept)
        {
            var copy = runtime.LastKnownGood.Serve(kept, request!, classification);
            outcome.Result?.Dispose();
            var degradation = copy.GetDegradation()!;
            runtime.CopyServed(degradation);
            Log.FallbackServed(runtime.Logger, runtime.Name, request!.Method.Method, SecretRedactor.RedactPathAndQuery(request.RequestUri), classification.Kind, degradation.Notice);
            return Outcome.FromResult(copy);
        }

        if (outcome.Exception is null && !options.ThrowOnFailure)
        {
            // Only the final outcome is labelled: an attempt that failed before a retry succeeded leaves no mark.
            outcome.Result!.RequestMessage?.Options.Set(IntegrationFailureHttpExtensions.ClassificationKey, classification);
            BoundBody(outcome.Result, classification, call, request);
            return outcome;
        }

        outcome.Result?.Dispose();
        return Outcome.FromException<HttpResponseMessage>(Failure(classification, request, outcome.Exception));
    }

    private IntegrationFailureException Failure(FailureClassification classification, HttpRequestMessage? request, Exception? inner)
    {
        var redacted = classification with
        {
            Reason = classification.Reason is null ? null : redactor.Redact(classification.Reason, request),
            ProviderCode = classification.ProviderCode is null ? null : redactor.Redact(classification.ProviderCode, request),
        };
        return new IntegrationFailureException(runtime.Name, redacted, inner);
    }

    /// <summary>
    /// Puts the body of a returned response under the call's limits. A failure while it is read is the call's
    /// failure (counted, logged, alerted and fed to health, once) when the pipeline had found the call good; a
    /// failed response, returned because ThrowOnFailure is off, was reported already.
    /// </summary>
    private void BoundBody(HttpResponseMessage response, FailureClassification classification, CallState call, HttpRequestMessage? request)
    {
        var content = response.Content;
        if (content is BoundedResponseContent)
        {
            return;
        }

        var failedSuccess = classification.IsFailure && response.IsSuccessStatusCode ? Failure(classification, request, classification.Exception) : null;
        // An event stream is open-ended: the caller bounds it. A HEAD answer declares the length of a body it does not carry.
        bool unbounded = ClassifyStrategy.IsStream(response) || request?.Method == HttpMethod.Head || content.Headers.ContentLength == 0;
        // A body read whole for validation or the kept copy is in memory already: nothing left to time, its size known.
        bool inMemory = content is ByteArrayContent && content.Headers.ContentLength <= options.MaxResponseBodyBytes;
        if (failedSuccess is null && (unbounded || inMemory))
        {
            return;
        }

        int reported = 0;
        IntegrationFailureException BodyFailure(FailureClassification failure)
        {
            if (!classification.IsFailure && !call.IsProbe && Interlocked.Exchange(ref reported, 1) == 0)
            {
                Report(failure, request);
                FeedHealth(isProbe: false, failure);
            }

            return Failure(failure, request, failure.Exception);
        }

        var limits = unbounded ? null : new ResponseBodyLimits(runtime.Time, call, options.MaxResponseBodyBytes, runtime.Classifier, BodyFailure);
        response.Content = new BoundedResponseContent(content, limits, failedSuccess);
    }

    private void FeedHealth(bool isProbe, FailureClassification classification)
    {
        // Live traffic feeds the health layer too: a 401 on a real call turns the integration Red at once.
        // A rejected request or an unrecognised exception says more about the caller than about the service.
        // With circuits per host, one host's outage is that host's circuit's to report (Yellow, naming it), not the integration's Red.
        if (!isProbe && classification.Kind is not (FailureKind.Rejected or FailureKind.Unknown) &&
            !(options.CircuitBreaker.PerHost && classification.Kind is (FailureKind.Unavailable or FailureKind.Timeout)))
        {
            // Latency is judged on probes only: a live call's time includes retry waits and long LLM answers.
            runtime.Health.Report(runtime.Name, new HealthProbeResult(classification, TimeSpan.Zero));
        }
    }

    /// <summary>The newer of the copy in memory and the shared one (when the shared tier is on), with the shared one kept here too.</summary>
    private async ValueTask<StoredResponse?> LastGoodCopyAsync(string key, FallbackPolicy policy, CancellationToken cancellationToken)
    {
        var mine = runtime.LastKnownGood.TryGet(key, policy);
        if (!policy.Shared || runtime.SharedCopies is not { } shared ||
            await shared.ReadAsync(key, policy, cancellationToken).ConfigureAwait(false) is not { } theirs ||
            runtime.Time.GetUtcNow() - theirs.FetchedAt > policy.MaxStaleness ||
            (mine is not null && mine.FetchedAt >= theirs.FetchedAt))
        {
            return mine;
        }

        runtime.LastKnownGood.Adopt(key, theirs, policy);
        return theirs;
    }

    private void Report(FailureClassification classification, HttpRequestMessage? request) =>
        runtime.ReportFailure(classification, request?.Method.Method ?? "?", SecretRedactor.RedactPathAndQuery(request?.RequestUri), request, options, redactor);
}
