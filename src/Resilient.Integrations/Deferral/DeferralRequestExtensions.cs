using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Deferral;

/// <summary>Per-request store-and-forward and the queued answer.</summary>
public static class DeferralRequestExtensions
{
    /// <summary>The header a 202 answer for a queued write carries: the write's identifier.</summary>
    public const string DeferredHeader = "X-Resilient-Deferred";

    internal static readonly HttpRequestOptionsKey<Deferral> DeferralKey = new("ri.deferral");

    /// <summary>Marks a write deferrable (or, with <see langword="false"/>, never deferrable), whatever the integration's <see cref="DeferralPolicy.DeferWrites"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="defer">Whether the write may be queued when the service is down.</param>
    /// <returns>The request.</returns>
    public static HttpRequestMessage DeferOnFailure(this HttpRequestMessage request, bool defer = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestMarks.Of(request).Defer = defer;
        return request;
    }

    /// <summary>Tells whether the answer is a 202 for a queued write rather than the service's own answer.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The deferral, or <see langword="null"/> when the write was delivered (or failed).</returns>
    public static Deferral? GetDeferral(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(DeferralKey, out var deferral) ? deferral : null;
    }
}
