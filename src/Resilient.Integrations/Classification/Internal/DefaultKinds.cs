using System.ClientModel;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Classification.Internal;

/// <summary>The built-in mapping of statuses and exceptions to failure kinds (docs/architecture.md, "Failure kinds").</summary>
internal static class DefaultKinds
{
    public static FailureKind ForStatus(int status) => status switch
    {
        < 400 => FailureKind.None,
        408 or 504 => FailureKind.Timeout,
        401 or 403 => FailureKind.Auth,
        429 => FailureKind.RateLimit,
        501 or 505 => FailureKind.Rejected, // not implemented / version not supported: the same request fails again
        >= 500 => FailureKind.Unavailable,   // includes 529 (overloaded) and gateway-specific 52x codes
        _ => FailureKind.Rejected,
    };

    /// <param name="exception">What was thrown.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="sdkAnswer">Classifies the HTTP answer an SDK's exception carries, with the classifier's rules and clock.</param>
    public static FailureClassification ForException(Exception exception, CancellationToken cancellationToken, Func<ClientResultException, FailureClassification> sdkAnswer)
    {
        switch (exception)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return FailureClassification.Cancelled(exception);
            case IntegrationFailureException failure:
                // Its own pipeline already retried it (an SDK running on the integration's client): never again.
                return failure.Classification with { Exception = exception, RetryMayHelp = false };
            case BrokenCircuitException:
                // Open (or isolated) circuit: failed fast, the upstream was not touched; retrying now cannot help.
                return Of(FailureKind.Unavailable, exception, "circuit open") with { RetryMayHelp = false };
            case PacingRejectedException paced:
                return Of(FailureKind.RateLimit, exception, "held for a rate-limit reset longer than allowed") with { RetryAfter = paced.RetryAfter, RetryMayHelp = false };
            case RateLimiterRejectedException limited:
                return Of(FailureKind.RateLimit, exception) with { RetryAfter = limited.RetryAfter };
            case TimeoutRejectedException or TimeoutException:
                return Of(FailureKind.Timeout, exception);
            case OperationCanceledException:
                // Not the caller's token: a deadline (HttpClient.Timeout wraps a TimeoutException; others do not say).
                return Of(FailureKind.Timeout, exception, "cancelled by a deadline, not by the caller");
            case ClientResultException { Status: > 0 } sdk:
                return sdkAnswer(sdk);
            case ClientResultException { InnerException: { } inner }:
                return ForException(inner, cancellationToken, sdkAnswer) with { Exception = exception };
            case HttpRequestException { StatusCode: { } status }:
                return Of(ForStatus((int)status), exception) with { StatusCode = status };
            case HttpRequestException http:
                return Of(ForRequestError(http.HttpRequestError, http.InnerException), exception, http.HttpRequestError.ToString());
            case HttpIOException io:
                return Of(ForRequestError(io.HttpRequestError, io.InnerException), exception, io.HttpRequestError.ToString());
            case SocketException or IOException:
                return Of(FailureKind.Unavailable, exception);
            case JsonException:
                return Of(FailureKind.BadResponse, exception, "the response body could not be read as the expected JSON");
            case AggregateException { InnerExceptions.Count: 1 } aggregate:
                return ForException(aggregate.InnerExceptions[0], cancellationToken, sdkAnswer) with { Exception = exception };
            case { InnerException: { } wrapped } when IsTransport(wrapped) && ForException(wrapped, cancellationToken, sdkAnswer) is { Kind: not FailureKind.Unknown } inner:
                // An SDK's own wrapper (AnthropicIOException around an HttpRequestException): what it wraps says what failed.
                return inner with { Exception = exception };
            default:
                return Of(FailureKind.Unknown, exception);
        }
    }

    private static FailureKind ForRequestError(HttpRequestError error, Exception? inner) => error switch
    {
        HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError
            or HttpRequestError.ProxyTunnelError or HttpRequestError.ResponseEnded or HttpRequestError.HttpProtocolError => FailureKind.Unavailable,
        HttpRequestError.InvalidResponse or HttpRequestError.ConfigurationLimitExceeded => FailureKind.BadResponse,
        HttpRequestError.UserAuthenticationError => FailureKind.Auth,
        HttpRequestError.VersionNegotiationError => FailureKind.Rejected,
        _ when inner is TimeoutException => FailureKind.Timeout,
        _ => FailureKind.Unavailable, // an unspecified transport failure
    };

    /// <summary>What an SDK wraps when a call fails on the wire; an app's own bug wrapping a file error must stay Unknown.</summary>
    private static bool IsTransport(Exception inner) =>
        inner is HttpRequestException or HttpIOException or SocketException or TimeoutException
            or TimeoutRejectedException or BrokenCircuitException or ClientResultException or OperationCanceledException
        || inner.GetType() == typeof(IOException); // a broken connection, not a missing file

    private static FailureClassification Of(FailureKind kind, Exception exception, string? reason = null) =>
        new(kind) { Exception = exception, Reason = reason };
}
