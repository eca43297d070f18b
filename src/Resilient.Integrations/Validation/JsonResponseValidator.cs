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

        long? length = headers.ContentLength; // computed and stored on first read: read once
        if (length == 0)
        {
            return new(EmptyBody());
        }

#if NET9_0_OR_GREATER
        if (length is long declared && declared <= _maxBodyBytes)
        {
            // Buffered at once (a body that has arrived): checked where it is, without a state machine.
            var buffering = ResponseBodyReader.BufferAsync(response, cancellationToken);
            if (!buffering.IsCompletedSuccessfully)
            {
                return ValidateBufferingAsync(buffering, response, (int)declared, cancellationToken);
            }

            try
            {
                if (CheckInPlace(buffering.Result, (int)declared, cancellationToken) is { } verdict)
                {
                    return new(verdict);
                }
            }
            catch (Exception ex)
            {
                return ValueTask.FromException<ResponseValidationResult>(ex); // a fault of the task, as from the awaited path
            }
        }
#endif

        return ValidateBodyAsync(response, cancellationToken);
    }

    internal static bool IsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
        mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase) ||
        mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

#if NET9_0_OR_GREATER
    /// <summary>Checks a body still arriving once the content holds it: read where it is, no copy of the body, whatever its size.</summary>
    private async ValueTask<ResponseValidationResult> ValidateBufferingAsync(
        ValueTask<HttpContent> buffering, HttpResponseMessage response, int declared, CancellationToken cancellationToken)
    {
        var buffered = await buffering.ConfigureAwait(false);
        return CheckInPlace(buffered, declared, cancellationToken) ?? await ValidateBodyAsync(response, cancellationToken).ConfigureAwait(false);
    }
#endif

    /// <summary>The whole-body check, which words every verdict: over a prefix of the body read for it.</summary>
    private async ValueTask<ResponseValidationResult> ValidateBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await ResponseBodyReader.ReadPrefixAsync(response, _maxBodyBytes, cancellationToken).ConfigureAwait(false);
        return Check(body);
    }

#if NET9_0_OR_GREATER
    private const int Window = 64 * 1024;

    /// <summary>
    /// Checks a buffered body through a pooled window: whole when it fits (copied out of the content's buffer, without a
    /// stream), else token by token as the window slides over the content's stream. <see langword="null"/> when the
    /// whole-body check must decide (more bytes than declared, an <c>error</c> member or required properties in a large
    /// body, or a failure, whose message it words).
    /// </summary>
    private ResponseValidationResult? CheckInPlace(HttpContent buffered, int declared, CancellationToken cancellationToken)
    {
        if (declared < Window)
        {
            // Most answers: written out whole in one piece and plain, checked where the content holds them, without a copy.
            if (_required.Length == 0 && declared <= _maxBodyBytes && InPlaceCheck.IsPlain(buffered, declared, _rejectErrorEnvelope, cancellationToken))
            {
                return ResponseValidationResult.Valid;
            }

            byte[] small = ArrayPool<byte>.Shared.Rent(declared + 1);
            try
            {
                int written = WindowWriter.Fill(buffered, small, cancellationToken);
                return written < small.Length && written <= _maxBodyBytes ? Check(new BodyPrefix(small, written, isComplete: true, borrowed: true)) : null;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(small);
            }
        }

        if (_required.Length > 0)
        {
            return null;
        }

        var stream = buffered.ReadAsStream(cancellationToken);
        byte[] window = ArrayPool<byte>.Shared.Rent(Window);
        try
        {
            int read = stream.ReadAtLeast(window, window.Length, throwOnEndOfStream: false);
            return Scan(stream, ref window, read, read < window.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
            stream.Position = 0; // the caller reads the same stream
        }
    }

    /// <summary>A write-only stream that a buffered content copies itself into, counting the bytes; the subclass uses them.</summary>
    private abstract class ContentSink : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        protected long Written { get; set; }

        public abstract override void Write(ReadOnlySpan<byte> buffer);

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// A stream that checks what a buffered content writes, where it lies: true only for exactly the declared bytes in one
    /// write, a plain JSON text with nothing in it that the whole-body check would judge or word (that check decides the rest).
    /// </summary>
    private sealed class InPlaceCheck : ContentSink
    {
        [ThreadStatic]
        private static InPlaceCheck? t_check;

        private bool _deferErrorMember;
        private int _writes;
        private bool _plain;

        public static bool IsPlain(HttpContent buffered, int declared, bool deferErrorMember, CancellationToken cancellationToken)
        {
            var check = t_check ??= new InPlaceCheck();
            (check._deferErrorMember, check._writes, check.Written, check._plain) = (deferErrorMember, 0, 0, false);
            buffered.CopyTo(check, null, cancellationToken);
            return check._writes == 1 && check.Written == declared && check._plain;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (++_writes == 1)
            {
                var json = ErrorEnvelope.SkipBom(buffer);
                _plain = Utf8.IsValid(json) && Internal.JsonScan.IsPlainValid(json, _deferErrorMember); // an empty text is not plain: the whole-body check words it
            }

            Written += buffer.Length;
        }
    }

    /// <summary>A stream that takes what a buffered content writes into a window, and counts what did not fit.</summary>
    private sealed class WindowWriter : ContentSink
    {
        [ThreadStatic]
        private static WindowWriter? t_writer;

        private byte[] _window = [];

        public static int Fill(HttpContent buffered, byte[] window, CancellationToken cancellationToken)
        {
            var writer = t_writer ??= new WindowWriter();
            (writer._window, writer.Written) = (window, 0);
            try
            {
                buffered.CopyTo(writer, null, cancellationToken);
                return (int)Math.Min(writer.Written, int.MaxValue);
            }
            finally
            {
                writer._window = [];
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Written < _window.Length)
            {
                buffer[..(int)Math.Min(buffer.Length, _window.Length - Written)].CopyTo(_window.AsSpan((int)Written));
            }

            Written += buffer.Length;
        }
    }
#endif

#if NET9_0_OR_GREATER
    private ResponseValidationResult? Scan(Stream body, ref byte[] window, int held, bool final)
    {
        var state = default(JsonReaderState);
        long total = held;
        int start = held - ErrorEnvelope.SkipBom(window.AsSpan(0, held)).Length;
        try
        {
            while (true)
            {
                var reader = new Utf8JsonReader(window.AsSpan(start, held - start), final, state);
                while (reader.Read())
                {
                    // An error member or a bad string: the whole-body check reads the envelope and words the verdict.
                    if ((_rejectErrorEnvelope && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("error"u8)) ||
                        (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsValidText(ref reader)))
                    {
                        return null;
                    }
                }

                if (final)
                {
                    return ResponseValidationResult.Valid;
                }

                int consumed = start + (int)reader.BytesConsumed;
                window.AsSpan(consumed, held - consumed).CopyTo(window);
                held -= consumed;
                start = 0;
                state = reader.CurrentState;
                if (held == window.Length)
                {
                    // One token longer than the window: a larger window, as the whole-body reader would hold it anyway.
                    var larger = ArrayPool<byte>.Shared.Rent(window.Length * 2);
                    window.AsSpan(0, held).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(window);
                    window = larger;
                }

                int read = body.Read(window, held, window.Length - held);
                total += read;
                held += read;
                final = read == 0;
                if (total > _maxBodyBytes)
                {
                    return null;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
    }
#endif

    private ResponseValidationResult Check(BodyPrefix body)
    {
        var json = ErrorEnvelope.SkipBom(body.Span);
        if (body.IsComplete && json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return EmptyBody();
        }

        // One vectorised pass over the whole body: then only escaped strings need their text checked one by one.
        bool wholeIsUtf8 = body.IsComplete && Utf8.IsValid(json);
        if (wholeIsUtf8 && Internal.JsonScan.IsPlainValid(json, _rejectErrorEnvelope))
        {
            // A plain, well-formed text (most answers): the reader below would find nothing to say.
            return _required.Length > 0 ? CheckRequired(body) : ResponseValidationResult.Valid;
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
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && (!wholeIsUtf8 || reader.ValueIsEscaped) && !IsValidText(ref reader))
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
