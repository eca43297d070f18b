using System.Net.Http.Headers;
using System.Net.Sockets;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>Whether a call may be sent again without risking a duplicate upstream.</summary>
internal static class RepeatSafety
{
    public const string MayHaveActedOn = "may have been acted on: a write is not repeated after a timeout";

    /// <summary>RFC 9110 section 9.2.1: the methods that change nothing.</summary>
    public static bool IsSafeMethod(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Trace;

    /// <summary>Whether the request may be sent more than once; adds the integration's idempotency key to a write first, if asked to.</summary>
    /// <param name="request">The request.</param>
    /// <param name="marks">The request's marks (the caller's declaration, if any).</param>
    /// <param name="writes">The integration's write policy.</param>
    /// <param name="declaredByCall">Whether the delegate call this request runs inside was declared safe to repeat (an SDK on the integration's own client).</param>
    public static bool PrepareRequest(HttpRequestMessage? request, RequestMarks? marks, WritePolicy writes, bool declaredByCall = false)
    {
        if (request is null)
        {
            return true;
        }

        if (marks?.SafeToRepeat is bool declared)
        {
            return declared;
        }

        if (IsSafeMethod(request.Method) || writes.SafeToRepeat || declaredByCall)
        {
            return true;
        }

        var headers = request.Headers;
        if (HasKey(headers, writes.IdempotencyKeyHeader) || HasKey(headers, WritePolicy.DefaultIdempotencyKeyHeader))
        {
            return true;
        }

        // On the request itself, so every attempt carries the same key; repeated only if the key really went on.
        if (writes.AddIdempotencyKey && headers.TryAddWithoutValidation(writes.IdempotencyKeyHeader, Guid.NewGuid().ToString("N")))
        {
            return true;
        }

        if (writes.SafeToRepeatPaths.Count > 0 && request.RequestUri is { IsAbsoluteUri: true } uri)
        {
            string path = uri.AbsolutePath;
            foreach (var ending in writes.SafeToRepeatPaths)
            {
                if (path.EndsWith(ending, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the failure proves the server never acted on the request, so a write may be sent again: no
    /// connection was made (DNS, connect, TLS, proxy tunnel), or the server said it did not process it: 425 Too Early (RFC 8470), 429 Too Many Requests
    /// (RFC 6585: rejected before processing) and 529 overloaded (Anthropic: not processed). A 5xx in general proves
    /// nothing (a gateway may answer 502, 503 or 504 after the origin acted), nor does a reset or a timeout. (Pacing and
    /// an open circuit never sent the request either, but they are not retried at all: their RetryMayHelp is false.)
    /// </summary>
    public static bool ProvesNotActedOn(in FailureClassification classification)
    {
        if (classification.StatusCode is { } status)
        {
            return IsNotProcessedStatus((int)status);
        }

        for (var ex = classification.Exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case HttpRequestException { StatusCode: { } carried }:
                    return IsNotProcessedStatus((int)carried);
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
                    or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError }:
                    return true;
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable
                    or SocketError.NetworkUnreachable or SocketError.TryAgain or SocketError.NoData }:
                    return true;
            }
        }

        return false;
    }

    private static bool IsNotProcessedStatus(int status) => status is 425 or 429 or 529;

    /// <summary>A timeout of a write that was not repeated says that the write may have happened.</summary>
    public static FailureClassification Annotate(in FailureClassification classification, bool repeatable) =>
        repeatable || classification.Kind != FailureKind.Timeout
            ? classification
            : classification with { Reason = classification.Reason is null ? MayHaveActedOn : classification.Reason + "; " + MayHaveActedOn };

    private static bool HasKey(HttpRequestHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && values.Any(v => !string.IsNullOrWhiteSpace(v));
}
