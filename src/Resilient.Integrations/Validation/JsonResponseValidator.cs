using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Resilient.Integrations.Classification.Internal;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Validation;

/// <summary>
/// The default validator for JSON APIs. It fails a 2xx response whose content type is not JSON (an HTML error
/// page from a proxy), whose body is malformed or truncated JSON or holds text that is not valid UTF-8, that wraps an <c>{"error": …}</c> envelope,
/// or that lacks a required property. The body stays readable by the caller.
/// </summary>
public sealed class JsonResponseValidator : IResponseValidator
{
    private readonly int _maxBodyBytes;
    private readonly bool _rejectErrorEnvelope;
    private readonly bool _allowEmptyBody;
    private readonly string[] _passThrough;
    private readonly string[][] _required;

    /// <summary>Creates a validator with default options.</summary>
    public JsonResponseValidator()
        : this(new JsonResponseValidatorOptions())
    {
    }

    /// <summary>Creates a validator.</summary>
    /// <param name="options">The options; copied, later changes have no effect.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="JsonResponseValidatorOptions.MaxBodyBytes"/> is out of range.</exception>
    public JsonResponseValidator(JsonResponseValidatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxBodyBytes is < 1 or > 64 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBodyBytes, "JsonResponseValidatorOptions.MaxBodyBytes must be between 1 and 67108864.");
        }

        _maxBodyBytes = options.MaxBodyBytes;
        _rejectErrorEnvelope = options.RejectErrorEnvelope;
        _allowEmptyBody = options.AllowEmptyBody;
        _passThrough = [.. options.PassThroughMediaTypes];
        _required = [.. options.RequiredProperties.Select(p => p.Split('.', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
    }

    /// <summary>Gets a validator with default options.</summary>
    public static JsonResponseValidator Default { get; } = new();

    /// <inheritdoc/>
    public ValueTask<ResponseValidationResult> ValidateAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.ResetContent ||
            response.RequestMessage?.Method == HttpMethod.Head)
        {
            return new(ResponseValidationResult.Valid);
        }

        var headers = response.Content.Headers;
        if (headers.ContentType?.MediaType is string mediaType && !IsJson(mediaType))
        {
            return new(_passThrough.Contains(mediaType, StringComparer.OrdinalIgnoreCase)
                ? ResponseValidationResult.Valid
                : ResponseValidationResult.Invalid($"unexpected content type '{mediaType}' (expected JSON)"));
        }

        if (headers.ContentLength == 0)
        {
            return new(EmptyBody());
        }

        return ValidateBodyAsync(response, cancellationToken);
    }

    internal static bool IsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
        mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase) ||
        mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    private async ValueTask<ResponseValidationResult> ValidateBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await ResponseBodyReader.ReadPrefixAsync(response, _maxBodyBytes, cancellationToken).ConfigureAwait(false);
        return Check(body);
    }

    private ResponseValidationResult Check(BodyPrefix body)
    {
        var json = ErrorEnvelope.SkipBom(body.Span);
        if (body.IsComplete && json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return EmptyBody();
        }

        try
        {
            var reader = new Utf8JsonReader(json, body.IsComplete, default);
            while (reader.Read())
            {
                if (_rejectErrorEnvelope && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 &&
                    reader.ValueTextEquals("error"u8) && reader.Read() && ErrorEnvelope.IsMeaningfulError(ref reader))
                {
                    ErrorEnvelope.TryRead(json, body.IsComplete, out _, out string? code);
                    return ResponseValidationResult.Invalid("the 2xx response carries an error envelope", code);
                }

                // The reader checks the structure but not the text inside strings: a deserializer would throw on it.
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsValidText(ref reader))
                {
                    return ResponseValidationResult.Invalid("a JSON string holds invalid UTF-8 or an unpaired surrogate escape");
                }
            }
        }
        catch (JsonException ex)
        {
            return ResponseValidationResult.Invalid($"malformed or truncated JSON: {ex.Message}");
        }

        return body.IsComplete && _required.Length > 0 ? CheckRequired(body) : ResponseValidationResult.Valid;
    }

    private static bool IsValidText(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return Utf8.IsValid(reader.ValueSpan);
        }

        // An escaped string is checked by decoding it, as a deserializer would (a lone \uD800 is invalid too).
        char[] chars = ArrayPool<char>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            reader.CopyString(chars);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private ResponseValidationResult CheckRequired(BodyPrefix body)
    {
        using var document = JsonDocument.Parse(body.Memory[(body.Span.Length - ErrorEnvelope.SkipBom(body.Span).Length)..]);
        foreach (var path in _required)
        {
            var node = document.RootElement;
            foreach (var name in path)
            {
                if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(name, out node))
                {
                    node = default;
                    break;
                }
            }

            if (node.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                return ResponseValidationResult.Invalid($"required property '{string.Join('.', path)}' is missing");
            }
        }

        return ResponseValidationResult.Valid;
    }

    private ResponseValidationResult EmptyBody() =>
        _allowEmptyBody ? ResponseValidationResult.Valid : ResponseValidationResult.Invalid("the response body is empty");
}
