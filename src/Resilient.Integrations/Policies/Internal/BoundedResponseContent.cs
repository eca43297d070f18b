using System.Globalization;
using System.Net;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The limits the body of one returned response is read under: what is left of the call's time budget
/// (<see cref="ResilientIntegrationOptions.TotalTimeout"/>, counted from the call's start) and
/// <see cref="ResilientIntegrationOptions.MaxResponseBodyBytes"/> of decoded bytes. A breach, or a body that breaks
/// off, fails as an <see cref="IntegrationFailureException"/> made by <c>fail</c>.
/// </summary>
internal sealed class ResponseBodyLimits(
    TimeProvider time,
    CallState call,
    long maxBytes,
    IFailureClassifier classifier,
    Func<FailureClassification, IntegrationFailureException> fail)
{
    public TimeProvider Time { get; } = time;

    public long MaxBytes { get; } = maxBytes;

    public TimeSpan Remaining => call.Remaining(Time);

    public IntegrationFailureException TimedOut(Exception? cause) => fail(new FailureClassification(FailureKind.Timeout)
    {
        Reason = string.Create(CultureInfo.InvariantCulture, $"the response body was not read within the call's time budget (TotalTimeout {call.TotalTimeout})"),
        Exception = cause,
    });

    public IntegrationFailureException TooLarge(long? declared) => fail(new FailureClassification(FailureKind.BadResponse)
    {
        Reason = declared is long length
            ? string.Create(CultureInfo.InvariantCulture, $"the response body declares {length} bytes, above MaxResponseBodyBytes ({MaxBytes})")
            : string.Create(CultureInfo.InvariantCulture, $"the response body exceeds MaxResponseBodyBytes ({MaxBytes} bytes, decoded)"),
    });

    /// <summary>A read that threw (the body broke off, the connection reset): classified like any other failure.</summary>
    public IntegrationFailureException Broken(Exception cause)
    {
        var classification = classifier.Classify(cause, CancellationToken.None);
        return fail(classification.IsFailure ? classification : new FailureClassification(FailureKind.Unavailable) { Exception = cause });
    }
}

/// <summary>
/// Wraps the content of a response the pipeline returned, so that every way of reading it (HttpClient's buffering in
/// <c>GetAsync</c> and <c>SendAsync</c>, <c>ReadAsStringAsync</c>, <c>CopyToAsync</c>, <c>ReadAsStreamAsync</c>, which
/// <c>GetStringAsync</c> and <c>GetFromJsonAsync</c> use) goes through a <see cref="BoundedReadStream"/>.
/// </summary>
/// <remarks>
/// The failure given to the constructor, for a failed response with a 2xx status that is returned because
/// <see cref="ResilientIntegrationOptions.ThrowOnFailure"/> is off: reading the content whole (what <c>GetAsync</c>
/// does) gives the raw body, but a stream read throws it, since <c>GetStringAsync</c> and <c>GetFromJsonAsync</c> see
/// only the body and would pass it off as a good answer.
/// </remarks>
internal sealed class BoundedResponseContent : HttpContent
{
    private readonly ResponseBodyLimits? _limits;
    private readonly IntegrationFailureException? _failedSuccess;

    /// <param name="inner">The content the pipeline returned; its headers are copied.</param>
    /// <param name="limits">The limits; <see langword="null"/> for an event stream, which is open-ended and the caller's to bound.</param>
    /// <param name="failedSuccess">See the remarks.</param>
    public BoundedResponseContent(HttpContent inner, ResponseBodyLimits? limits, IntegrationFailureException? failedSuccess)
    {
        Inner = inner;
        _limits = limits;
        _failedSuccess = failedSuccess;
        foreach (var header in inner.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    public HttpContent Inner { get; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var source = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var source = Open(cancellationToken);
        source.CopyTo(stream);
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        _failedSuccess is not null ? Task.FromException<Stream>(_failedSuccess) : OpenAsync(cancellationToken);

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
        _failedSuccess is not null ? throw _failedSuccess : Open(cancellationToken);

    // The length, when known, is the inner content's, copied with the headers.
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task<Stream> OpenAsync(CancellationToken cancellationToken)
    {
        CheckDeclaredLength();
        try
        {
            return Bound(await Inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (_limits is not null && IsForeign(ex, cancellationToken))
        {
            throw _limits.Broken(ex);
        }
    }

    private Stream Open(CancellationToken cancellationToken)
    {
        CheckDeclaredLength();
        try
        {
            return Bound(Inner.ReadAsStream(cancellationToken));
        }
        catch (Exception ex) when (_limits is not null && IsForeign(ex, cancellationToken))
        {
            throw _limits.Broken(ex);
        }
    }

    /// <summary>Neither our own failure nor the caller's cancellation, which pass through as they are.</summary>
    internal static bool IsForeign(Exception ex, CancellationToken cancellationToken) =>
        ex is not IntegrationFailureException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private Stream Bound(Stream source) => _limits is null ? source : new BoundedReadStream(source, _limits);

    private void CheckDeclaredLength()
    {
        if (_limits is not null && Headers.ContentLength is long declared && declared > _limits.MaxBytes)
        {
            throw _limits.TooLarge(declared);
        }
    }
}

/// <summary>
/// A read-only stream over a response body that enforces <see cref="ResponseBodyLimits"/>: a deadline on the injected
/// <see cref="TimeProvider"/> (armed when the stream opens, released when the body ends, fails or is disposed) cancels
/// a read that outlasts the call's budget, and a count of the bytes handed out stops a body past the size limit.
/// </summary>
internal sealed class BoundedReadStream : ReadOnlyStream
{
    private readonly ResponseBodyLimits _limits;
    private readonly CancellationTokenSource _deadlineSource = new();
    private readonly AttemptDeadline? _deadline;
    private CancellationTokenSource? _linked;
    private CancellationToken _linkedFor;
    private IntegrationFailureException? _failure;
    private long _read;
    private bool _ended;

    public BoundedReadStream(Stream inner, ResponseBodyLimits limits)
        : base(inner)
    {
        _limits = limits;
        var remaining = limits.Remaining;
        if (remaining <= TimeSpan.Zero)
        {
            _deadlineSource.Cancel();
        }
        else
        {
            _deadline = new AttemptDeadline(limits.Time, remaining, _deadlineSource);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        // A blocking read cannot be cancelled: the budget is checked before each one.
        if (_ended)
        {
            return 0;
        }

        ThrowIfStopped();
        int read;
        try
        {
            read = Inner.Read(buffer);
        }
        catch (Exception ex) when (BoundedResponseContent.IsForeign(ex, default))
        {
            throw Stop(ex);
        }

        return Count(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return 0;
        }

        ThrowIfStopped();
        int read;
        try
        {
            read = await Inner.ReadAsync(buffer, TokenFor(cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (BoundedResponseContent.IsForeign(ex, cancellationToken))
        {
            throw Stop(ex);
        }

        return Count(read);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
        }

        base.Dispose(disposing);
    }

    private void ThrowIfStopped()
    {
        if (_failure is not null)
        {
            throw _failure;
        }

        if (_deadlineSource.IsCancellationRequested || _limits.Remaining <= TimeSpan.Zero)
        {
            throw Stop(null);
        }
    }

    private int Count(int read)
    {
        if (read == 0)
        {
            _ended = true;
            Release();
            return 0;
        }

        _read += read;
        if (_read > _limits.MaxBytes)
        {
            throw Stop(_limits.TooLarge(declared: null));
        }

        return read;
    }

    /// <summary>Fails the body once: the deadline's passing wins over what the cut read threw.</summary>
    private IntegrationFailureException Stop(Exception? cause)
    {
        _failure ??= cause as IntegrationFailureException ??
            (_deadlineSource.IsCancellationRequested || cause is null ? _limits.TimedOut(cause) : _limits.Broken(cause));
        Release();
        Inner.Dispose(); // frees the connection: nobody reads the rest
        return _failure;
    }

    /// <summary>
    /// The deadline joined with the caller's token. A buffering copy passes the same token to every read: one linked
    /// source for it, not one per chunk.
    /// </summary>
    private CancellationToken TokenFor(CancellationToken caller)
    {
        if (!caller.CanBeCanceled)
        {
            return _deadlineSource.Token;
        }

        if (_linked is null || _linkedFor != caller)
        {
            _linked?.Dispose();
            _linked = CancellationTokenSource.CreateLinkedTokenSource(caller, _deadlineSource.Token);
            _linkedFor = caller;
        }

        return _linked.Token;
    }

    private void Release()
    {
        _deadline?.Dispose();
        _linked?.Dispose();
        _deadlineSource.Dispose();
    }
}
