using System.Text;
using System.Text.Json;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Classification.Internal;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Validation;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Validates an AI provider's 2xx answers: an event stream that carries an error event before its first content
/// event is classified by the error's type (an overloaded model is Unavailable, not a good answer), and a completion
/// a content filter stopped is Rejected. Everything else goes to the validator the integration had.
/// </summary>
internal sealed class ProviderResponseValidator(IResponseValidator? inner, bool filteredCompletionIsRejected) : IResponseValidator
{
    // An event stream's head (preamble and first content event) is small; one this large is content, and content is not an error.
    private const int MaxHeadBytes = 16 * 1024;
    private const int MaxCompletionBytes = 1024 * 1024;

    public async ValueTask<ResponseValidationResult> ValidateAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var head = await ResponseBodyReader.ReadPrefixAsync(response, MaxHeadBytes, EventStreamHead.Enough, cancellationToken).ConfigureAwait(false);
            return CheckHead(head.ToText());
        }

        var verdict = inner is null ? ResponseValidationResult.Valid : await inner.ValidateAsync(response, cancellationToken).ConfigureAwait(false);
        if (!verdict.IsValid || !filteredCompletionIsRejected || !IsJson(response) || !IsCompletion(response))
        {
            return verdict;
        }

        var body = await ResponseBodyReader.ReadPrefixAsync(response, MaxCompletionBytes, cancellationToken).ConfigureAwait(false);
        return StoppedByContentFilter(body.Span, body.IsComplete)
            ? ResponseValidationResult.Invalid("the completion was stopped by the provider's content filter (finish_reason: content_filter)", "content_filter", FailureKind.Rejected)
            : verdict;
    }

    internal static ResponseValidationResult CheckHead(string head)
    {
        if (!EventStreamHead.TryDecide(head, out bool isError, out string? code, out string data) || !isError)
        {
            return ResponseValidationResult.Valid;
        }

        var kind = ProviderErrorTypes.KindOf(code, FailureKind.BadResponse);
        if (kind is FailureKind.RateLimit or FailureKind.Rejected)
        {
            // A spend limit arrives as a rate-limit or invalid-request error: refine it as the status would be.
            kind = WellKnownErrorCodes.Refine(kind, kind == FailureKind.RateLimit ? 429 : 400, code, data);
        }

        return ResponseValidationResult.Invalid($"the event stream carried an error event before any content ({code ?? "no type"})", code, kind);
    }

    // Only completions carry finish_reason; an embeddings batch must not be read again for it.
    private static bool IsCompletion(HttpResponseMessage response) =>
        response.RequestMessage?.RequestUri?.AbsolutePath.EndsWith("completions", StringComparison.OrdinalIgnoreCase) ?? false;

    private static bool IsJson(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType is string media && JsonResponseValidator.IsJson(media);

    private static bool StoppedByContentFilter(ReadOnlySpan<byte> json, bool isComplete)
    {
        if (json.IndexOf("content_filter"u8) < 0)
        {
            return false; // nearly every completion: one vectorised scan instead of a JSON pass
        }

        try
        {
            var reader = new Utf8JsonReader(ErrorEnvelope.SkipBom(json), isComplete, default);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("finish_reason"u8) &&
                    reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("content_filter"u8))
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
            // The inner validator judged the JSON; a prefix cut mid-token just ends the search.
        }

        return false;
    }
}
