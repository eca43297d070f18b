using Polly;
using Polly.Telemetry;
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
internal sealed class OutcomeStrategy(
    IntegrationRuntime runtime, ResilientIntegrationOptions options, SecretRedactor redactor, ResilienceStrategyTelemetry? totalTimeout, RetryLoop? retries)
    : ResilienceStrategy<HttpResponseMessage>
{
    private object? _healthTracker; // the integration's health tracker, once there is one

    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var callerToken = context.CancellationToken;
        var request = context.GetRequestMessage();
        var marks = RequestMarks.Find(request);
        bool isProbe = marks is { IsProbe: true };
        var fallbackKey = isProbe ? null : LastKnownGoodStore.KeyFor(request, marks, options.Fallback, redactor);
        // Inside a delegate call of this integration (an SDK on its own client), this pipeline alone times and
        // retries the attempts, within the delegate call's budget: one layer, not two nested ones.
        var around = isProbe ? null : NestedCall.Around(runtime.Name);
        around?.Deadline?.Lift();
        bool deferrable = !isProbe && DeferredWriteQueue.IsDeferrable(request, marks, options.Deferral, runtime);

        // Stale while slow: only when switched on, and only for a plain read this instance keeps a copy of.
        var slowCopy = options.Fallback.SoftTimeout is not null && around is null && !deferrable ? CopyForSlowRead(request, fallbackKey) : null;
        if (slowCopy is not null && runtime.BackgroundRefreshes.IsRefreshing(fallbackKey!.Value))
        {
            // The live call of this very request is past its soft timeout already: a second one would only queue behind it.
            return Outcome.FromResult(ServeWhileSlow(slowCopy, request!, "joined"));
        }

        bool keepCopy = fallbackKey is not null && !runtime.LastKnownGood.IsFresh(fallbackKey, options.Fallback) && runtime.LastKnownGood.MayKeep(options.Fallback);
        var live = slowCopy is null ? null : new LiveCall(callerToken); // StaleWhileSlowAsync disposes it, once the live call is over
        long now = runtime.Time.GetTimestamp();
        var call = new CallState(around?.StartTimestamp ?? now, options.TotalTimeout, live?.Token ?? callerToken)
        {
            // A read that may be answered from the copy at its soft timeout reads its body inside the race: that is its answer.
            KeepBody = keepCopy || slowCopy is not null,
            IsProbe = isProbe,
        };
        context.Properties.Set(CallState.Key, call);
        runtime.Budget.RecordRequest(options.RetryBudget);

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
        call.Repeatable = isProbe || RepeatSafety.PrepareRequest(request, marks, options.Writes, declaredByCall: around?.Repeatable ?? false);

        if (live is not null)
        {
            return await StaleWhileSlowAsync(callback, context, state, call, live, request!, fallbackKey!, keepCopy).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        Outcome<HttpResponseMessage> outcome;
        if (totalTimeout is null)
        {
            outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        else
        {
            // The total timeout, owned here (no step of its own): the inner strategies run on its token.
            bool timedOut;
            var deadline = ContextDeadline.Start(context, options.TotalTimeout, runtime.Time);
            try
            {
                outcome = retries is null
                    ? await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext)
                    : await retries.RunAsync(callback, context, state, deferrable ? runtime.Time.GetTimestamp() : now).ConfigureAwait(context.ContinueOnCapturedContext);
            }
            catch (Exception ex)
            {
                outcome = Outcome.FromException<HttpResponseMessage>(ex); // as Polly's timeout: an outcome, never a throw
            }
            finally
            {
                timedOut = deadline.End();
            }

            outcome = timedOut
                ? ContextDeadline.TimedOut(outcome, context, options.TotalTimeout, totalTimeout, "call")
                : ContextDeadline.ForCaller(outcome, context.CancellationToken);
        }

        return await FinishAsync(outcome, context, call, request, fallbackKey, isProbe, deferrable, keepCopy).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    /// <summary>
    /// What a call's outcome becomes for its caller: a good response kept as the copy and bounded, a failure reported and
    /// then queued (a write), answered from the copy, returned (ThrowOnFailure off) or thrown as a typed failure.
    /// </summary>
    private ValueTask<Outcome<HttpResponseMessage>> FinishAsync(
        Outcome<HttpResponseMessage> outcome, ResilienceContext context, CallState call, HttpRequestMessage? request, LastKnownGoodKey? fallbackKey,
        bool isProbe, bool deferrable, bool keepCopy)
    {
        if (outcome.Exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new(outcome);
        }

        // A success classified by the attempt step: finished here, without a state machine.
        if (outcome.Result is { } plain && call.IsPlainSuccess(plain))
        {
            Succeeded(outcome, FailureClassification.Success, call, request, fallbackKey, isProbe, keepCopy);
            return new(outcome);
        }

        if (outcome.Result is { } answer && call.ClassificationOf(answer) is { IsFailure: false } success)
        {
            Succeeded(outcome, success, call, request, fallbackKey, isProbe, keepCopy);
            return new(outcome);
        }

        var classifying = runtime.ClassifyAsync(outcome, context);
        if (classifying.IsCompletedSuccessfully && !classifying.Result.IsFailure)
        {
            Succeeded(outcome, classifying.Result, call, request, fallbackKey, isProbe, keepCopy);
            return new(outcome);
        }

        return FinishAsync(classifying, outcome, context, call, request, fallbackKey, isProbe, deferrable, keepCopy);
    }

    private void Succeeded(
        Outcome<HttpResponseMessage> outcome, FailureClassification classification, CallState call, HttpRequestMessage? request, LastKnownGoodKey? fallbackKey,
        bool isProbe, bool keepCopy)
    {
        FeedHealth(isProbe, classification);
        if (keepCopy && fallbackKey is not null && outcome.Result is { } good)
        {
            Keep(fallbackKey, good, call);
        }

        if (outcome.Result is { } response)
        {
            BoundBody(response, classification, call, request ?? response.RequestMessage);
        }
    }

    private async ValueTask<Outcome<HttpResponseMessage>> FinishAsync(
        ValueTask<FailureClassification> classifying, Outcome<HttpResponseMessage> outcome, ResilienceContext context, CallState call, HttpRequestMessage? request,
        LastKnownGoodKey? fallbackKey, bool isProbe, bool deferrable, bool keepCopy)
    {
        var callerToken = context.CancellationToken;
        var classification = await classifying.ConfigureAwait(context.ContinueOnCapturedContext);
        if (!classification.IsFailure)
        {
            Succeeded(outcome, classification, call, request, fallbackKey, isProbe, keepCopy);
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

    /// <summary>Keeps a good response's body, read inside its attempt, as the request's last good copy (and the shared one).</summary>
    /// <returns>Whether the copy was kept (a body read for it, and room in this second's budget of copies).</returns>
    private bool Keep(LastKnownGoodKey key, HttpResponseMessage good, CallState call)
    {
        if (!good.IsSuccessStatusCode || call.ClassificationOf(good) is null || call.KeptBody is not { } body || !runtime.LastKnownGood.TryTakeCopy(options.Fallback))
        {
            return false;
        }

        var stored = runtime.LastKnownGood.Remember(key, good, body.ToArray(), options.Fallback, redactor);
        if (options.Fallback.Shared)
        {
            runtime.SharedCopies?.WriteBehind(key, stored, options.Fallback);
        }

        return true;
    }

    /// <summary>
    /// The copy a slow read may be answered with: a safe request without a body (a body is the caller's, who may dispose it
    /// once answered), kept in this instance's memory and not older than MaxStaleness. The shared tier is not asked here:
    /// reading it on every call would cost the success path a round trip.
    /// </summary>
    private StoredResponse? CopyForSlowRead(HttpRequestMessage? request, LastKnownGoodKey? key) =>
        key is not null && request is { Content: null } && RepeatSafety.IsSafeMethod(request.Method)
            ? runtime.LastKnownGood.TryGet(key.Value, options.Fallback)
            : null;

    /// <summary>
    /// Races the live call against the soft timeout. The live call runs with a context and a token of its own: the
    /// resilience handler returns the caller's context to Polly's pool once the caller is answered, and the caller's
    /// cancellation reaches the live call only until then.
    /// </summary>
    private async ValueTask<Outcome<HttpResponseMessage>> StaleWhileSlowAsync<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state,
        CallState call, LiveCall live, HttpRequestMessage request, LastKnownGoodKey key, bool keepCopy)
    {
        var liveContext = ResilienceContextPool.Shared.Get(context.OperationKey, context.ContinueOnCapturedContext, live.Token);
        // The live call may outlive the caller's answer: it gets a request of its own, so what the inner strategies set on
        // it (the endpoint it went to, its options) never races with, nor shows on, the copy served to the caller.
        liveContext.SetRequestMessage(CopyOf(request));
        liveContext.Properties.Set(CallState.Key, call);
        var running = WithinTotalTimeoutAsync(callback, liveContext, state).AsTask();
        bool answered;
        using (var timer = new CancellationTokenSource())
        {
            var soft = Task.Delay(options.Fallback.SoftTimeout!.Value, runtime.Time, timer.Token);
            answered = await Task.WhenAny(running, soft).ConfigureAwait(context.ContinueOnCapturedContext) == running;
            await timer.CancelAsync().ConfigureAwait(context.ContinueOnCapturedContext);
        }

        // Past the soft timeout, the newest copy kept meanwhile; none (evicted, expired): the read waits for its live answer.
        var copy = answered ? null : runtime.LastKnownGood.TryGet(key.Value, options.Fallback);
        if (copy is null)
        {
            Outcome<HttpResponseMessage> outcome;
            try
            {
                outcome = await running.ConfigureAwait(context.ContinueOnCapturedContext);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(liveContext);
                live.Dispose();
            }

            return await FinishAsync(outcome, context, call, request, key, isProbe: false, deferrable: false, keepCopy).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        live.Detach();
        if (context.CancellationToken.IsCancellationRequested)
        {
            // The caller gave up as the soft timeout passed: it gets its cancellation, and the live call ends with it.
            live.Abandon();
            _ = LandAsync(running, liveContext, live, call, request, key, background: false);
            return Outcome.FromException<HttpResponseMessage>(new OperationCanceledException(context.CancellationToken));
        }

        bool background = runtime.BackgroundRefreshes.TryStart(key.Value, options.Fallback.MaxBackgroundRefreshes);
        if (!background)
        {
            call.Abandoned = true;
            live.Abandon();
        }

        var served = ServeWhileSlow(copy, request, background ? "background" : "abandoned");
        _ = LandAsync(running, liveContext, live, call, request, key, background);
        return Outcome.FromResult(served);
    }

    /// <summary>Runs the inner strategies within the total timeout, when this strategy owns it.</summary>
    private async ValueTask<Outcome<HttpResponseMessage>> WithinTotalTimeoutAsync<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        if (totalTimeout is null)
        {
            return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        Outcome<HttpResponseMessage> outcome;
        bool timedOut;
        var deadline = ContextDeadline.Start(context, options.TotalTimeout, runtime.Time);
        try
        {
            outcome = retries is null
                ? await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext)
                : await retries.RunAsync(callback, context, state, runtime.Time.GetTimestamp()).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (Exception ex)
        {
            outcome = Outcome.FromException<HttpResponseMessage>(ex);
        }
        finally
        {
            timedOut = deadline.End();
        }

        return timedOut
            ? ContextDeadline.TimedOut(outcome, context, options.TotalTimeout, totalTimeout, "call")
            : ContextDeadline.ForCaller(outcome, context.CancellationToken);
    }

    /// <summary>A copy of a read without a body: method, address, version, headers and options.</summary>
    private static HttpRequestMessage CopyOf(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers.NonValidated)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in request.Options)
        {
            ((IDictionary<string, object?>)copy.Options)[option.Key] = option.Value;
        }

        return copy;
    }

    private HttpResponseMessage ServeWhileSlow(StoredResponse copy, HttpRequestMessage request, string liveCall)
    {
        var softTimeout = options.Fallback.SoftTimeout!.Value;
        var slow = new FailureClassification(FailureKind.Timeout)
        {
            Reason = liveCall switch
            {
                "background" => $"no answer within the soft timeout ({softTimeout}); the live call goes on in the background",
                "joined" => "the live call of the same request is past its soft timeout and goes on in the background",
                _ => $"no answer within the soft timeout ({softTimeout}); the live call was cancelled: Fallback:MaxBackgroundRefreshes go on in the background already",
            },
        };
        var response = runtime.LastKnownGood.Serve(copy, request, slow, DegradationCause.LiveCallSlow);
        var degradation = response.GetDegradation()!;
        runtime.CopyServedWhileSlow(degradation, liveCall);
        Log.ServedWhileSlow(runtime.Logger, runtime.Name, request.Method.Method, SecretRedactor.RedactPathAndQuery(request.RequestUri), softTimeout, degradation.Notice,
            liveCall switch
            {
                "background" => "goes on in the background",
                "joined" => "of the same request goes on in the background already",
                _ => $"was cancelled: {options.Fallback.MaxBackgroundRefreshes} go on in the background already (Fallback:MaxBackgroundRefreshes)",
            });
        return response;
    }

    /// <summary>
    /// Sees a live call past its soft timeout through: a success refreshes the copy and feeds health, a failure is
    /// counted, alerted and fed to health as any call's; nobody gets a second answer. The response is disposed, and the
    /// live call's context, token and place among the background refreshes are given back.
    /// </summary>
    private async Task LandAsync(
        Task<Outcome<HttpResponseMessage>> running, ResilienceContext liveContext, LiveCall live, CallState call, HttpRequestMessage request, LastKnownGoodKey key, bool background)
    {
        Outcome<HttpResponseMessage> outcome = default;
        string? landed = null;
        try
        {
            outcome = await running.ConfigureAwait(false);
            if (!background || (outcome.Exception is OperationCanceledException && live.Abandoned))
            {
                return; // abandoned: as a caller's cancellation, no failure
            }

            var classification = await runtime.ClassifyAsync(outcome, liveContext).ConfigureAwait(false);
            if (!classification.IsFailure)
            {
                FeedHealth(isProbe: false, classification);
                bool kept = outcome.Result is { } good && Keep(key, good, call);
                landed = kept ? "the copy is refreshed" : "answered, but its body was not kept (a stream, larger than Fallback:MaxEntryBytes, or past Fallback:MaxCopiesPerSecond)";
                return;
            }

            classification = RepeatSafety.Annotate(classification, call.Repeatable);
            Report(classification, request);
            FeedHealth(isProbe: false, classification);
            landed = $"failed with {classification.Kind}; its caller had the copy already";
        }
#pragma warning disable CA1031 // Nobody awaits a background refresh: whatever it throws must end here, not as an unobserved task.
        catch (Exception ex)
        {
            landed = $"could not be seen through: {ex.GetType().Name}";
        }
#pragma warning restore CA1031
        finally
        {
            outcome.Result?.Dispose();
            if (background)
            {
                runtime.BackgroundRefreshes.End(key.Value);
            }

            ResilienceContextPool.Shared.Return(liveContext);
            live.Dispose();

            // Last: once this is logged, the response is disposed and the place is free for another.
            if (landed is not null)
            {
                Log.BackgroundRefreshLanded(runtime.Logger, runtime.Name, request.Method.Method, SecretRedactor.RedactPathAndQuery(request.RequestUri), landed);
            }
        }
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
        long? length = content.Headers.ContentLength; // computed and stored on first read: read once
        // A body read whole for validation or the kept copy is in memory already: nothing left to time, its size known.
        bool inMemory = content is ByteArrayContent && length <= options.MaxResponseBodyBytes;
        if (failedSuccess is null && inMemory)
        {
            return;
        }

        bool unbounded = ClassifyStrategy.IsStream(response) || request?.Method == HttpMethod.Head || length == 0;
        if (failedSuccess is null && unbounded)
        {
            return;
        }

        var limits = unbounded ? null : Limits(classification, call, request);
        response.Content = new BoundedResponseContent(content, limits, failedSuccess);
    }

    // Apart from BoundBody: its closure would be allocated on every call, also when the body is left as it is.
    private ResponseBodyLimits Limits(FailureClassification classification, CallState call, HttpRequestMessage? request)
    {
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

        return new ResponseBodyLimits(runtime.Time, call, options.MaxResponseBodyBytes, runtime.Classifier, BodyFailure);
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
            if (classification == FailureClassification.Success)
            {
                runtime.Health.ReportSuccess(runtime.Name, ref _healthTracker);
            }
            else
            {
                runtime.Health.Report(runtime.Name, new HealthProbeResult(classification, TimeSpan.Zero));
            }
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
