using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The innermost strategy: classifies and validates each attempt's response inside the attempt timeout,
/// remembers the verdict for the outer strategies, and logs the raw body of a bad response, redacted.
/// On its own only where the attempt step cannot own the attempt timeout (<see cref="AttemptStrategy"/> runs it otherwise).
/// </summary>
internal sealed class ClassifyStrategy(IntegrationRuntime runtime, ResilientIntegrationOptions options, SecretRedactor redactor)
    : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        return outcome.Result is null ? outcome : await InspectAsync(outcome, context, CallState.Of(context)).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    /// <summary>Classifies (and validates) an attempt's response, reads a good one's body for the copy, and logs a bad one's, redacted.</summary>
    public ValueTask<Outcome<HttpResponseMessage>> InspectAsync(Outcome<HttpResponseMessage> outcome, ResilienceContext context, CallState? call)
    {
        var response = outcome.Result!;
        ValueTask<FailureClassification> pending;
        try
        {
            pending = runtime.Classifier.ClassifyAsync(response, context.CancellationToken);
        }
        catch (Exception ex)
        {
            response.Dispose();
            return new(Outcome.FromException<HttpResponseMessage>(ex));
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return InspectLaterAsync(pending, outcome, context, call);
        }

        // Classified at once (a good answer, validated in place): no state machine unless a body is to be read.
        var classification = pending.Result;
        call?.Remember(response, classification);
        return ReadsBody(call, response, classification) || LogsBody(classification)
            ? FinishAsync(outcome, classification, context, call)
            : new(outcome);
    }

    private async ValueTask<Outcome<HttpResponseMessage>> InspectLaterAsync(
        ValueTask<FailureClassification> pending, Outcome<HttpResponseMessage> outcome, ResilienceContext context, CallState? call)
    {
        FailureClassification classification;
        try
        {
            classification = await pending.ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (Exception ex)
        {
            outcome.Result!.Dispose();
            return Outcome.FromException<HttpResponseMessage>(ex);
        }

        call?.Remember(outcome.Result!, classification);
        return await FinishAsync(outcome, classification, context, call).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    /// <summary>A body that declares more than a copy may hold is not read for one: it would be dropped.</summary>
    private bool ReadsBody(CallState? call, HttpResponseMessage response, FailureClassification classification) =>
        call is { KeepBody: true } && !classification.IsFailure && response.IsSuccessStatusCode && !IsStream(response) &&
        !(response.Content.Headers.ContentLength > options.Fallback.MaxEntryBytes);

    private bool LogsBody(FailureClassification classification) => classification.Kind == FailureKind.BadResponse && options.RawResponseLogBytes > 0;

    private async ValueTask<Outcome<HttpResponseMessage>> FinishAsync(
        Outcome<HttpResponseMessage> outcome, FailureClassification classification, ResilienceContext context, CallState? call)
    {
        var response = outcome.Result!;
        if (ReadsBody(call, response, classification))
        {
            // Read for the last-known-good copy here, inside the attempt timeout: a stalling body times the attempt out.
            try
            {
                var body = await ResponseBodyReader.ReadPrefixAsync(response, options.Fallback.MaxEntryBytes, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                call!.KeptBody = body.IsComplete ? body : null;
            }
            catch (Exception ex)
            {
                response.Dispose();
                return Outcome.FromException<HttpResponseMessage>(ex);
            }
        }

        if (LogsBody(classification))
        {
            await LogRawResponseAsync(response, classification, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        return outcome;
    }

    /// <summary>Whether the response is an open-ended stream of events (server-sent events, NDJSON).</summary>
    internal static bool IsStream(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType is { } type &&
        (type.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) || type.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
            || type.Equals("application/jsonl", StringComparison.OrdinalIgnoreCase));

    private async ValueTask LogRawResponseAsync(HttpResponseMessage response, FailureClassification classification, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            var prefix = await ResponseBodyReader.ReadPrefixAsync(response, options.RawResponseLogBytes, cancellationToken).ConfigureAwait(false);
            body = redactor.Redact(prefix.ToText(), response.RequestMessage);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            // A body that stalls past the attempt's deadline costs only its log line: the verdict stands.
            body = "(the body could not be read: " + ex.GetType().Name + ")";
        }

        var request = response.RequestMessage;
        Log.BadResponseBody(
            runtime.Logger,
            runtime.Name,
            request?.Method.Method ?? "?",
            SecretRedactor.RedactPathAndQuery(request?.RequestUri),
            redactor.Redact(classification.Reason, request),
            options.RawResponseLogBytes,
            body);
    }
}
