using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The innermost strategy: classifies and validates each attempt's response inside the attempt timeout,
/// remembers the verdict for the outer strategies, and logs the raw body of a bad response, redacted.
/// </summary>
internal sealed class ClassifyStrategy(IntegrationRuntime runtime, ResilientIntegrationOptions options, SecretRedactor redactor)
    : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        if (outcome.Result is not { } response)
        {
            return outcome;
        }

        FailureClassification classification;
        try
        {
            classification = await runtime.Classifier.ClassifyAsync(response, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (Exception ex)
        {
            response.Dispose();
            return Outcome.FromException<HttpResponseMessage>(ex);
        }

        var call = CallState.Of(context);
        call?.Remember(response, classification);
        // A body that declares more than a copy may hold is not read for one: it would be dropped.
        if (call is { KeepBody: true } && !classification.IsFailure && response.IsSuccessStatusCode && !IsStream(response) &&
            !(response.Content.Headers.ContentLength > options.Fallback.MaxEntryBytes))
        {
            // Read for the last-known-good copy here, inside the attempt timeout: a stalling body times the attempt out.
            try
            {
                var body = await ResponseBodyReader.ReadPrefixAsync(response, options.Fallback.MaxEntryBytes, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                call.KeptBody = body.IsComplete ? body : null;
            }
            catch (Exception ex)
            {
                response.Dispose();
                return Outcome.FromException<HttpResponseMessage>(ex);
            }
        }
        if (classification.Kind == FailureKind.BadResponse && options.RawResponseLogBytes > 0)
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
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
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
